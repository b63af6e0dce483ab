# Reference values for cartcohort.analyse.logistic (logistic_regression).
#
# Run from the repository root:
#   Rscript tests/reference/r/logistic.R
# It writes tests/reference/cases/logistic.json (input data, expected values,
# tolerances, provenance). Never edit that JSON by hand; rerun this script.
#
# Oracles
# - method = "ml": stats::glm(family = binomial) with tight convergence
#   (glm.control(epsilon = 1e-14, maxit = 100)): coefficients, summary() Wald
#   SE / z / p, confint.default() Wald intervals, logLik(), AIC(), the model
#   likelihood-ratio test (null.deviance - deviance).
#   Profile-likelihood intervals: MASS's confint.glm (R 4.2) interpolates the
#   profile with a spline and is only accurate to ~1e-4, so the reference is an
#   exact root of the likelihood-ratio statistic, found with uniroot(tol = 1e-12)
#   on refits with the coefficient held fixed (Newton iterations below, each
#   confirmed by glm.fit() with the coefficient moved into an offset). MASS's
#   values are stored too, for information only. Per-coefficient LR tests (used
#   with ci_method = "profile") hold the coefficient at 0 the same way.
# - method = "firth": logistf cannot be installed here. Coefficients come from
#   brglm2 (glm(method = "brglmFit", type = "AS_mean"), which for logistic
#   regression solves Firth's (1993) modified score equations, i.e. maximises
#   the Jeffreys-penalised likelihood, as logistf does). The penalised
#   likelihood-ratio tests, the model LR test and the profile penalised-likelihood
#   intervals are computed by the small independent implementation below, written
#   to follow logistf's definitions (Heinze & Schemper 2002; logistf's
#   logistf()): the penalty 0.5 * log det(X'WX) always uses the FULL design
#   matrix, also when coefficients are held fixed (the null model fixes every
#   non-intercept coefficient at 0; a term's test fixes that coefficient at 0).
#   The script stops unless brglm2 and this implementation agree to 1e-8.
#   Standard errors follow logistf's convention: the inverse of
#   X' diag(w (1 + h)) X at the estimate (w = p(1 - p), h the hat diagonal);
#   brglm2's own vcov() (the inverse of X'WX) is stored for comparison.

suppressPackageStartupMessages({
  library(MASS)
  library(brglm2)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "cases", "logistic.json")
if (!dir.exists(dirname(out_path))) stop("Run this script from the repository root.")

ctrl <- glm.control(epsilon = 1e-14, maxit = 100)

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

bits <- function(s) as.integer(strsplit(s, "")[[1]])

# logistf's `sex2` data set (urinary tract infection in 239 college women;
# Cytel LogXact 9 manual), reconstructed column by column so that this script
# does not need logistf. The classic Firth example: `dia` separates quasi-completely.
sex2_bits <- list(
  case = paste0(
    "111111111111111111111111111111111111111111111111111111111111",
    "111111111111111111111111111111111111111111111111111111111111",
    "111111111100000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000000"
  ),
  age = paste0(
    "000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000001111",
    "111111111100000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000111111111111111111111111"
  ),
  oc = paste0(
    "000000000000000000000000000000000000000001111111111111111111",
    "111111111111111111111111111111111111111111111111111111110000",
    "001111111100000000000000000000000000000011111111111111111111",
    "11111111111111111111111111111111111000000111111111111111111"
  ),
  vic = paste0(
    "011111111111111111111111111111111111111110000000000000000000",
    "000000000000000000000000000011111111111111111111111111111111",
    "110000011101111111111111111111111111111100000000000000000000",
    "00000000000000000000000111111111111111111000000000000000111"
  ),
  vicl = paste0(
    "000000000000000000111111111111111111111110000000000000000000",
    "000000000000000000000000000000000000000000000011111111110000",
    "110000000000001111111111111111111111111100000000000000000000",
    "00000000000000000000000011111111111111111000000000000000011"
  ),
  vis = paste0(
    "100000000000000111000000000011111111111110000000000000000000",
    "000000000000000000000000000000000000000000001100000001110011",
    "010000000010010000000011111111111111111100000000000000000000",
    "00000000000000000000001000000111111001111000000000000001011"
  ),
  dia = paste0(
    "000000000000000000000000000000000000000010000000000000000000",
    "000000000000000000000000011100000000000000010000000000000001",
    "010000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000000"
  )
)
sex2 <- as.data.frame(lapply(sex2_bits, bits))
stopifnot(nrow(sex2) == 239, sum(sex2$case) == 130)
if (requireNamespace("logistf", quietly = TRUE)) {
  stopifnot(isTRUE(all.equal(sex2, as.data.frame(lapply(logistf::sex2, as.integer)),
                             check.attributes = FALSE)))
}

mtcars_df <- data.frame(am = mtcars$am, vs = mtcars$vs, wt = mtcars$wt, hp = mtcars$hp,
                        mpg = mtcars$mpg)

infert_df <- data.frame(case = infert$case, spontaneous = infert$spontaneous,
                        induced = infert$induced, education = infert$education)
stopifnot(identical(levels(infert_df$education), c("0-5yrs", "6-11yrs", "12+ yrs")))

# A small CAR-T-shaped cohort without separation: severe CRS (grade >= 3) against
# age, a high tumour burden flag and the number of prior therapy lines.
set.seed(20240611)
n <- 80
clin <- data.frame(
  age_years = round(rnorm(n, 58, 11)),
  high_burden = rbinom(n, 1, 0.45) == 1,
  prior_lines = sample(1:6, n, replace = TRUE)
)
lp <- -3 + 0.03 * (clin$age_years - 58) + 1.4 * clin$high_burden + 0.25 * clin$prior_lines
clin$severe_crs <- rbinom(n, 1, plogis(lp))

# Quasi-complete separation: no severe CRS without bridging failure, by construction.
set.seed(424242)
n <- 36
quasi <- data.frame(
  age_years = round(rnorm(n, 60, 10)),
  bridging_failure = rbinom(n, 1, 0.4)
)
quasi$severe_crs <- ifelse(quasi$bridging_failure == 1, rbinom(n, 1, 0.55), 0L)
stopifnot(sum(quasi$severe_crs) >= 3,
          sum(quasi$severe_crs[quasi$bridging_failure == 1] == 0) >= 1)

# Complete separation: severe ICANS exactly when peak ferritin exceeds
# 1000 ng/mL (ferritin in thousands of ng/mL; no patient between 0.9 and 1.3).
set.seed(777)
n <- 24
complete <- data.frame(
  ferritin_k = round(c(runif(12, 0.2, 0.9), runif(12, 1.3, 4)), 2),
  age_years = round(rnorm(n, 60, 10))
)
complete <- complete[sample(n), ]
rownames(complete) <- NULL
complete$severe_icans <- as.integer(complete$ferritin_k > 1)
stopifnot(sum(complete$severe_icans) >= 5, sum(1 - complete$severe_icans) >= 5)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

frame_input <- function(df) {
  cols <- lapply(df, function(v) {
    if (is.factor(v)) as.character(v) else if (is.logical(v)) v else as.numeric(v)
  })
  levels <- Filter(Negate(is.null), lapply(df, function(v) if (is.factor(v)) levels(v) else NULL))
  list(columns = cols, factor_levels = if (length(levels)) levels else setNames(list(), character(0)))
}

find_bracket <- function(f, start, step, direction) {
  # Walk away from `start` until f changes sign; f(start) < 0.
  k <- 1
  repeat {
    b <- start + direction * k * step
    if (f(b) > 0) return(b)
    k <- k * 1.5
    if (k > 1e6) stop("no bracket found")
  }
}

exact_root <- function(f, bhat, se) {
  lo_end <- find_bracket(f, bhat, se, -1)
  hi_end <- find_bracket(f, bhat, se, 1)
  c(uniroot(f, c(lo_end, bhat), tol = 1e-12, maxiter = 1000)$root,
    uniroot(f, c(bhat, hi_end), tol = 1e-12, maxiter = 1000)$root)
}

# ---------------------------------------------------------------------------
# Maximum likelihood (glm)
# ---------------------------------------------------------------------------

# Deviance with coefficient j fixed at b: Newton with step halving (tau = 0),
# started at the estimate, then confirmed with glm.fit() started at that solution.
ml_deviance_fixed <- function(X, y, j, b, bhat) {
  fx <- rep(NA_real_, ncol(X))
  fx[j] <- b
  nr <- firth_fit(X, y, fx, start = bhat, gtol = 1e-9, tau = 0)
  g <- suppressWarnings(glm.fit(X[, -j, drop = FALSE], y, offset = b * X[, j],
                                start = nr$beta[-j], family = binomial(), control = ctrl))
  stopifnot(g$converged, abs(g$deviance + 2 * nr$loglik) < 1e-8 * (1 + g$deviance))
  g$deviance
}

ml_case <- function(name, formula, data, covariates, outcome, description,
                    confidence_level = 0.95) {
  fit0 <- glm(formula, family = binomial, data = data, control = ctrl)
  stopifnot(fit0$converged)
  # summary.glm takes SEs from the IRLS weights of the penultimate iterate, which
  # at epsilon = 1e-14 is still ~1e-7 from the estimate (SEs off by ~1e-7).
  # Refitting from start = coef(fit0) makes that iterate the estimate itself.
  fit <- glm(formula, family = binomial, data = data, control = ctrl, start = coef(fit0))
  stopifnot(fit$converged, isTRUE(all.equal(coef(fit), coef(fit0), tolerance = 1e-12)))
  X <- model.matrix(fit)
  y <- fit$y
  sm <- summary(fit)$coefficients
  se_first_fit <- unname(summary(fit0)$coefficients[, 2])
  crit <- qchisq(confidence_level, 1)
  wald <- confint.default(fit, level = confidence_level)
  # MASS profiles with glm fits that warn "fitted probabilities numerically 0 or 1".
  mass <- suppressWarnings(suppressMessages(confint(fit, level = confidence_level)))
  prof_lower <- prof_upper <- lr_chisq <- numeric(ncol(X))
  for (j in seq_len(ncol(X))) {
    f <- function(b) ml_deviance_fixed(X, y, j, b, coef(fit)) - fit$deviance - crit
    r <- exact_root(f, coef(fit)[j], sm[j, 2])
    prof_lower[j] <- r[1]
    prof_upper[j] <- r[2]
    lr_chisq[j] <- ml_deviance_fixed(X, y, j, 0, coef(fit)) - fit$deviance
  }
  list(
    name = name,
    description = description,
    method = "ml",
    formula = deparse(formula),
    outcome = outcome,
    covariates = I(covariates),
    confidence_level = confidence_level,
    input = frame_input(data[, c(outcome, covariates)]),
    expected = list(
      terms = colnames(X),
      coef = unname(coef(fit)),
      se = unname(sm[, 2]),
      se_summary_first_fit = se_first_fit,
      z = unname(sm[, 3]),
      p_value = unname(sm[, 4]),
      wald_lower = unname(wald[, 1]),
      wald_upper = unname(wald[, 2]),
      profile_lower = prof_lower,
      profile_upper = prof_upper,
      profile_lower_mass_spline = unname(mass[, 1]),
      profile_upper_mass_spline = unname(mass[, 2]),
      lr_chisq = lr_chisq,
      lr_p_value = pchisq(lr_chisq, 1, lower.tail = FALSE),
      loglik = as.numeric(logLik(fit)),
      aic = AIC(fit),
      lr_test_statistic = fit$null.deviance - fit$deviance,
      lr_test_df = fit$df.null - fit$df.residual,
      lr_test_p_value = pchisq(fit$null.deviance - fit$deviance,
                               fit$df.null - fit$df.residual, lower.tail = FALSE),
      n = nrow(X),
      n_events = sum(y),
      iterations_r = fit0$iter
    ),
    rtol = 1e-6,
    rtol_note = "iterative fit; R converged with glm.control(epsilon = 1e-14, maxit = 100)"
  )
}

# ---------------------------------------------------------------------------
# Firth: an independent penalised-likelihood implementation
# ---------------------------------------------------------------------------

firth_pll <- function(X, y, beta, tau = 0.5) {
  eta <- drop(X %*% beta)
  w <- plogis(eta) * plogis(-eta)
  info <- crossprod(X * sqrt(w))
  ll <- sum(y * plogis(eta, log.p = TRUE) + (1 - y) * plogis(-eta, log.p = TRUE))
  if (tau == 0) ll else ll + tau * as.numeric(determinant(info, logarithm = TRUE)$modulus)
}

# Newton iterations on the penalised log-likelihood with the coefficients in
# `fixed` (non-NA entries) held at their values; the penalty uses all of X.
# Direction: solve(X' diag(w (1 + h)) X) %*% U*, with step halving.
# gtol: the full fits stop at max |U*| < 1e-11; constrained fits, which only
# supply a penalised log-likelihood (its error is quadratic in the score, ~1e-18
# at gtol = 1e-9), use 1e-9 because far out on the profile the iteration
# contracts slowly.
# tau = 0.5 is Firth's penalty; tau = 0 gives plain maximum likelihood (used for
# the ML profile, because glm.fit() with a large offset can diverge and still
# report convergence: it halves steps only when the deviance is not finite).
firth_fit <- function(X, y, fixed = rep(NA_real_, ncol(X)), start = NULL, gtol = 1e-11,
                      maxit = 5000, tau = 0.5) {
  free <- is.na(fixed)
  beta <- if (is.null(start)) rep(0, ncol(X)) else start
  beta[!free] <- fixed[!free]
  ll <- firth_pll(X, y, beta, tau)
  for (iter in 0:maxit) {
    eta <- drop(X %*% beta)
    p <- plogis(eta)
    w <- p * (1 - p)
    xw <- X * sqrt(w)
    h <- rowSums((xw %*% solve(crossprod(xw))) * xw)
    score <- drop(crossprod(X, y - p + 2 * tau * h * (0.5 - p)))
    if (!any(free) || max(abs(score[free])) < gtol) break
    aug <- crossprod(X * sqrt(w * (1 + 2 * tau * h)))
    delta <- rep(0, ncol(X))
    delta[free] <- solve(aug[free, free, drop = FALSE], score[free])
    delta <- delta * min(1, 5 / max(abs(delta)))
    for (half in 0:40) {
      cand <- beta + delta
      ll_cand <- firth_pll(X, y, cand, tau)
      if (ll_cand >= ll - 1e-13 * abs(ll)) break
      delta <- delta / 2
    }
    beta <- cand
    ll <- ll_cand
  }
  if (iter >= maxit) stop(sprintf("firth_fit did not converge (fixed = %s, max score %g)", paste(format(fixed), collapse = ","), max(abs(score[free]))))
  list(beta = beta, loglik = ll, iterations = iter)
}

firth_case <- function(name, formula, data, covariates, outcome, description,
                       confidence_level = 0.95) {
  X <- model.matrix(formula, data)
  y <- model.response(model.frame(formula, data))
  crit <- qchisq(confidence_level, 1)
  full <- firth_fit(X, y)
  bhat <- full$beta

  br <- glm(formula, family = binomial, data = data, method = "brglmFit", type = "AS_mean",
            epsilon = 1e-13, maxit = 1000)
  agree <- all.equal(unname(coef(br)), bhat, tolerance = 1e-8)
  if (!isTRUE(agree)) stop(paste("brglm2 and the independent Firth fit disagree:", agree))

  eta <- drop(X %*% bhat)
  p <- plogis(eta)
  w <- p * (1 - p)
  xw <- X * sqrt(w)
  h <- rowSums((xw %*% solve(crossprod(xw))) * xw)
  se <- sqrt(diag(solve(crossprod(X * sqrt(w * (1 + h))))))
  se_brglm2 <- unname(sqrt(diag(vcov(br))))

  k <- ncol(X)
  lower <- upper <- chisq <- numeric(k)
  for (j in seq_len(k)) {
    fixed_at <- function(b) {
      fx <- rep(NA_real_, k)
      fx[j] <- b
      firth_fit(X, y, fx, start = bhat, gtol = 1e-9)$loglik
    }
    chisq[j] <- 2 * (full$loglik - fixed_at(0))
    f <- function(b) 2 * (full$loglik - fixed_at(b)) - crit
    r <- exact_root(f, bhat[j], se[j])
    lower[j] <- r[1]
    upper[j] <- r[2]
  }
  null_fixed <- c(NA_real_, rep(0, k - 1))
  null <- firth_fit(X, y, null_fixed, gtol = 1e-9)
  lr <- 2 * (full$loglik - null$loglik)
  zq <- qnorm(1 - (1 - confidence_level) / 2)

  list(
    name = name,
    description = description,
    method = "firth",
    formula = deparse(formula),
    outcome = outcome,
    covariates = I(covariates),
    confidence_level = confidence_level,
    input = frame_input(data[, c(outcome, covariates)]),
    expected = list(
      terms = colnames(X),
      coef = bhat,
      coef_brglm2 = unname(coef(br)),
      se = unname(se),
      se_brglm2_vcov = se_brglm2,
      pl_chisq = chisq,
      p_value = pchisq(chisq, 1, lower.tail = FALSE),
      profile_lower = lower,
      profile_upper = upper,
      wald_p_value = 2 * pnorm(-abs(bhat / se)),
      wald_lower = bhat - zq * se,
      wald_upper = bhat + zq * se,
      loglik = full$loglik,
      loglik_null = null$loglik,
      lr_test_statistic = lr,
      lr_test_df = k - 1,
      lr_test_p_value = pchisq(lr, k - 1, lower.tail = FALSE),
      n = nrow(X),
      n_events = sum(y)
    ),
    rtol = 1e-6,
    rtol_note = paste("iterative fits; the reference penalised fits converge to",
                      "max |modified score| < 1e-11 and uniroot(tol = 1e-12)")
  )
}

separation_case <- function(name, formula, data, covariates, outcome, description,
                            separating_terms) {
  fit <- withCallingHandlers(
    glm(formula, family = binomial, data = data, control = glm.control(maxit = 100)),
    warning = function(w) invokeRestart("muffleWarning")
  )
  list(
    name = name,
    description = description,
    method = "ml",
    formula = deparse(formula),
    outcome = outcome,
    covariates = I(covariates),
    input = frame_input(data[, c(outcome, covariates)]),
    expected = list(
      error = "SeparationError",
      separating_terms = I(separating_terms),  # constructed to separate; must be named
      glm_coef_diverging = unname(coef(fit)),
      glm_max_fitted_p = max(fitted(fit)),
      glm_min_fitted_p = min(fitted(fit))
    )
  )
}

# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

cases <- list(
  ml_case("mtcars_am_wt_hp", am ~ wt + hp, mtcars_df, c("wt", "hp"), "am",
          "mtcars: transmission (1 = manual) on weight and horsepower"),
  ml_case("mtcars_vs_mpg", vs ~ mpg, mtcars_df, "mpg", "vs",
          "mtcars: engine shape (1 = straight) on miles per gallon"),
  ml_case("mtcars_vs_mpg_level90", vs ~ mpg, mtcars_df, "mpg", "vs",
          "mtcars: engine shape on mpg, 90% intervals", confidence_level = 0.90),
  ml_case("infert_education", case ~ spontaneous + induced + education, infert_df,
          c("spontaneous", "induced", "education"), "case",
          "infert: case status on spontaneous and induced abortions and 3-level education"),
  ml_case("clinical_severe_crs", severe_crs ~ age_years + high_burden + prior_lines, clin,
          c("age_years", "high_burden", "prior_lines"), "severe_crs",
          "simulated CAR-T cohort (n = 80, seed 20240611): severe CRS, logical covariate"),
  separation_case("quasi_separation", severe_crs ~ age_years + bridging_failure, quasi,
                  c("age_years", "bridging_failure"), "severe_crs",
                  "simulated (seed 424242): no event without bridging failure",
                  "bridging_failure"),
  separation_case("complete_separation", severe_icans ~ ferritin_k + age_years, complete,
                  c("ferritin_k", "age_years"), "severe_icans",
                  "simulated (seed 777): event exactly when ferritin > 1000 ng/mL",
                  "ferritin_k"),
  firth_case("sex2_firth", case ~ age + oc + vic + vicl + vis + dia, sex2,
             c("age", "oc", "vic", "vicl", "vis", "dia"), "case",
             "logistf's sex2 example (Heinze & Schemper 2002); dia separates quasi-completely"),
  firth_case("quasi_separation_firth", severe_crs ~ age_years + bridging_failure, quasi,
             c("age_years", "bridging_failure"), "severe_crs",
             "simulated quasi-complete separation (seed 424242), Firth"),
  firth_case("complete_separation_firth", severe_icans ~ ferritin_k, complete,
             "ferritin_k", "severe_icans",
             "simulated complete separation (seed 777), Firth, one covariate"),
  firth_case("mtcars_am_wt_hp_firth", am ~ wt + hp, mtcars_df, c("wt", "hp"), "am",
             "mtcars without separation, Firth"),
  firth_case("infert_education_firth", case ~ spontaneous + induced + education, infert_df,
             c("spontaneous", "induced", "education"), "case",
             "infert with a 3-level factor, Firth, 90% intervals", confidence_level = 0.90)
)
names(cases) <- vapply(cases, `[[`, "", "name")

result <- list(
  provenance = list(
    source = R.version.string,
    packages = list(
      stats = as.character(packageVersion("stats")),
      MASS = as.character(packageVersion("MASS")),
      brglm2 = as.character(packageVersion("brglm2")),
      jsonlite = as.character(packageVersion("jsonlite"))
    ),
    script = "tests/reference/r/logistic.R",
    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
    platform = R.version$platform
  ),
  cases = cases
)

write_json(result, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", out_path, "\n")
