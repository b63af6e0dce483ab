# Reference values for cartcohort.analyse.cox (cox_ph and CoxResult.check_ph).
#
# Run from the repository root:  Rscript tests/reference/r/cox.R
# Writes tests/reference/cases/cox.json with, for every case, the input data (so the
# Python tests need no R), the model specification, R's results and the tolerance.
# Fits use tight convergence (coxph.control(eps = 1e-12, iter.max = 100)) so that the
# comparison measures the algorithms, not R's stopping rule.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

# coxph.control() warns that its default toler.chol (~1.8e-12) is not below eps = 1e-12;
# the Cholesky tolerance only flags singular information matrices, none of which occur in
# the converged cases, so the warning is silenced here rather than changing the control.
ctrl <- suppressWarnings(coxph.control(eps = 1e-12, iter.max = 100))

run_case <- function(id, description, df, time, event, covariates, factors = list(),
                     strata = NULL, ties = "efron", transforms = c("km", "rank", "identity", "log"),
                     survdiff_by = NULL, rtol = 1e-6, control = ctrl) {
  fdf <- df
  for (v in names(factors)) fdf[[v]] <- factor(fdf[[v]], levels = factors[[v]])
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(strata)) rhs <- paste(rhs, "+", paste0("strata(", paste(strata, collapse = ", "), ")"))
  form <- as.formula(paste0("Surv(", time, ", ", event, ") ~ ", rhs))
  warns <- character(0)
  fit <- withCallingHandlers(
    coxph(form, data = fdf, ties = ties, control = control),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  s <- summary(fit)
  ci <- s$conf.int
  expected <- list(
    terms_r = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$var))),
    hr = unname(exp(coef(fit))),
    lower = unname(ci[, "lower .95"]),
    upper = unname(ci[, "upper .95"]),
    z = unname(s$coefficients[, "z"]),
    p_value = unname(s$coefficients[, "Pr(>|z|)"]),
    loglik = unname(fit$loglik),
    lr_test = unname(s$logtest),
    # summary() rounds the Wald statistic to 2 decimals; keep the unrounded one.
    wald_test = c(unname(fit$wald.test), unname(s$waldtest["df"]),
                  pchisq(unname(fit$wald.test), unname(s$waldtest["df"]), lower.tail = FALSE)),
    score_test = unname(s$sctest),
    concordance_counts = unname(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y", "tied.xy")]),
    concordance = unname(fit$concordance["concordance"]),
    concordance_se = unname(fit$concordance["std"]),
    n = fit$n,
    n_events = fit$nevent,
    n_excluded = length(fit$na.action),
    iterations = fit$iter,
    warnings = warns
  )
  if (length(warns) == 0) {
    zph <- list()
    zph_cols <- list()
    for (tr in transforms) {
      z <- cox.zph(fit, transform = tr, terms = TRUE)
      zph[[tr]] <- list(term = rownames(z$table), statistic = unname(z$table[, "chisq"]),
                        df = unname(z$table[, "df"]), p_value = unname(z$table[, "p"]))
      z2 <- cox.zph(fit, transform = tr, terms = FALSE)
      zph_cols[[tr]] <- list(term = rownames(z2$table), statistic = unname(z2$table[, "chisq"]),
                             df = unname(z2$table[, "df"]), p_value = unname(z2$table[, "p"]))
    }
    expected$zph <- zph
    expected$zph_per_term <- zph_cols
  }
  if (!is.null(survdiff_by)) {
    sd <- survdiff(as.formula(paste0("Surv(", time, ", ", event, ") ~ ", survdiff_by)), data = fdf)
    expected$survdiff_chisq <- unname(sd$chisq)
  }
  list(
    id = id, description = description,
    spec = list(time = time, event = event, covariates = covariates,
                strata = if (is.null(strata)) NULL else strata, ties = ties),
    factors = factors,
    input = df,
    expected = expected,
    rtol = rtol
  )
}

# --- datasets -------------------------------------------------------------------------
lung2 <- data.frame(
  time = lung$time, status = as.integer(lung$status == 2), age = lung$age, sex = lung$sex,
  ph_ecog = as.character(lung$ph.ecog), ph_karno = lung$ph.karno, wt_loss = lung$wt.loss,
  inst = lung$inst
)
lung_levels <- list(ph_ecog = c("0", "1", "2", "3"))

vet <- data.frame(
  time = veteran$time, status = veteran$status, trt = veteran$trt,
  celltype = as.character(veteran$celltype), karno = veteran$karno
)
vet_levels <- list(celltype = levels(veteran$celltype))

ova <- data.frame(
  futime = ovarian$futime, fustat = ovarian$fustat, age = ovarian$age,
  rx = ovarian$rx, ecog_ps = ovarian$ecog.ps, resid_ds = ovarian$resid.ds
)

aml2 <- data.frame(time = aml$time, status = aml$status, x = as.character(aml$x))
aml_levels <- list(x = levels(aml$x))

pbc2 <- pbc[1:312, ]
pbc2 <- data.frame(
  time = pbc2$time, status = as.integer(pbc2$status == 2), age = pbc2$age,
  edema = pbc2$edema, log_bili = log(pbc2$bili), albumin = pbc2$albumin,
  protime = pbc2$protime
)

# Heavy ties: lung times in whole 30-day "months" (about 35 distinct times for 228 rows).
lung_tied <- lung2
lung_tied$time <- round(lung2$time / 30)

# A tiny hand-sized sample with one tied death time.
tiny <- data.frame(
  time = c(1, 2, 2, 3, 4, 5, 6, 7),
  status = c(1, 1, 1, 0, 1, 0, 1, 1),
  x = c(0.5, 1.2, -0.3, 0.8, 2.0, -1.0, 0.1, 1.5),
  g = c(0, 1, 0, 1, 1, 0, 1, 0)
)

# Events at time 0 (allowed by coxph: the risk set is everyone).
time0 <- data.frame(
  time = c(0, 0, 1, 2, 3, 3, 4, 5, 6, 8, 9, 10),
  status = c(1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0),
  x = c(1.1, 0.3, -0.2, 0.9, 1.4, -0.8, 0.0, 0.6, -1.2, 0.4, -0.5, -1.6)
)

# One binary covariate with distinct times: score test = log-rank (survdiff).
set.seed(20240611)
nd <- 60
distinct <- data.frame(
  time = round(rexp(nd, 0.1) + seq_len(nd) * 1e-3, 6),
  status = rbinom(nd, 1, 0.7),
  arm = rbinom(nd, 1, 0.5)
)

# Monotone likelihood: every event is in group 1 after time 5 -> coefficient to infinity.
monotone <- data.frame(
  time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
  status = c(1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0),
  grp = c(1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0),
  z = c(0.2, -0.4, 1.0, 0.3, -1.2, 0.8, 0.1, -0.6, 0.5, 1.5, -0.9, 0.7)
)

# Complete separation: the deaths are exactly the sep = 1 rows; R runs out of iterations.
separated <- data.frame(
  time = 1:8, status = c(1, 1, 1, 1, 0, 0, 0, 0), sep = c(1, 1, 1, 1, 0, 0, 0, 0),
  x = c(0.3, -0.2, 0.5, 0.1, 0.9, -0.4, 0.2, -0.7)
)

cases <- list(
  run_case("lung-efron", "lung: age + sex + factor(ph.ecog), Efron; 1 row with missing ph.ecog",
           lung2, "time", "status", c("age", "sex", "ph_ecog"), lung_levels),
  run_case("lung-breslow", "lung: age + sex + factor(ph.ecog), Breslow",
           lung2, "time", "status", c("age", "sex", "ph_ecog"), lung_levels, ties = "breslow"),
  run_case("lung-wtloss", "lung: age + sex + ph.karno + wt.loss (15 rows excluded), Efron",
           lung2, "time", "status", c("age", "sex", "ph_karno", "wt_loss")),
  run_case("lung-strata-inst", "lung: age + sex + strata(inst) (18 strata, 1 missing inst)",
           lung2, "time", "status", c("age", "sex"), strata = "inst"),
  run_case("lung-strata-inst-breslow", "lung: age + sex + strata(inst), Breslow",
           lung2, "time", "status", c("age", "sex"), strata = "inst", ties = "breslow"),
  run_case("lung-ties-efron", "lung with time in 30-day units (heavy ties), Efron",
           lung_tied, "time", "status", c("age", "sex", "ph_ecog"), lung_levels,
           transforms = c("km", "rank", "identity")),
  run_case("lung-ties-breslow", "lung with time in 30-day units (heavy ties), Breslow",
           lung_tied, "time", "status", c("age", "sex", "ph_ecog"), lung_levels, ties = "breslow",
           transforms = c("km", "rank", "identity")),
  run_case("veteran-efron", "veteran: trt + celltype (4 levels) + karno, Efron",
           vet, "time", "status", c("trt", "celltype", "karno"), vet_levels),
  run_case("veteran-breslow", "veteran: trt + celltype + karno, Breslow",
           vet, "time", "status", c("trt", "celltype", "karno"), vet_levels, ties = "breslow"),
  run_case("veteran-strata-trt", "veteran: celltype + karno + strata(trt), Efron",
           vet, "time", "status", c("celltype", "karno"), vet_levels, strata = "trt"),
  run_case("veteran-strata-trt-breslow", "veteran: celltype + karno + strata(trt), Breslow",
           vet, "time", "status", c("celltype", "karno"), vet_levels, strata = "trt", ties = "breslow"),
  run_case("ovarian", "ovarian: age + rx + ecog.ps, Efron",
           ova, "futime", "fustat", c("age", "rx", "ecog_ps")),
  run_case("ovarian-strata-resid", "ovarian: age + ecog.ps + strata(resid.ds, rx)",
           ova, "futime", "fustat", c("age", "ecog_ps"), strata = c("resid_ds", "rx")),
  run_case("aml-efron", "aml: x (Maintained / Nonmaintained), Efron; survdiff for comparison",
           aml2, "time", "status", c("x"), aml_levels, survdiff_by = "x"),
  run_case("aml-breslow", "aml: x, Breslow; survdiff for comparison",
           aml2, "time", "status", c("x"), aml_levels, ties = "breslow", survdiff_by = "x"),
  run_case("pbc", "pbc (first 312): age + edema + log(bili) + albumin + protime, Efron",
           pbc2, "time", "status", c("age", "edema", "log_bili", "albumin", "protime")),
  run_case("tiny", "8 rows, one tied death time: x + g, Efron",
           tiny, "time", "status", c("x", "g")),
  run_case("tiny-breslow", "8 rows, one tied death time: x + g, Breslow",
           tiny, "time", "status", c("x", "g"), ties = "breslow"),
  run_case("time-zero", "12 rows with two events at time 0: x, Efron",
           time0, "time", "status", c("x"), transforms = c("km", "rank", "identity")),
  run_case("distinct-binary-efron", "60 rows, distinct times, one binary covariate, Efron",
           distinct, "time", "status", c("arm"), survdiff_by = "arm"),
  run_case("distinct-binary-breslow", "60 rows, distinct times, one binary covariate, Breslow",
           distinct, "time", "status", c("arm"), ties = "breslow", survdiff_by = "arm"),
  # R's default control (eps = 1e-9): with eps = 1e-12 R keeps iterating until the
  # information is singular and sets the coefficient to NA instead of warning.
  run_case("monotone", "12 rows; grp = 1 for every event: monotone likelihood (infinite coef)",
           monotone, "time", "status", c("grp", "z"), control = coxph.control()),
  run_case("separated", "8 rows; sep = status: R runs out of iterations (default control)",
           separated, "time", "status", c("sep", "x"), control = coxph.control())
)

pkg <- function(p) as.character(packageVersion(p))
out <- list(
  provenance = list(
    source = R.version.string,
    packages = list(survival = pkg("survival"), jsonlite = pkg("jsonlite")),
    script = "tests/reference/r/cox.R",
    control = "coxph.control(eps = 1e-12, iter.max = 100) except cases 'monotone' and 'separated' (defaults)",
    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z")
  ),
  cases = cases
)
write_json(out, "tests/reference/cases/cox.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null", dataframe = "columns")
cat("wrote tests/reference/cases/cox.json with", length(cases), "cases\n")
