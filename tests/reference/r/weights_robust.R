# Reference values for case weights and robust (sandwich) variances:
# cartcohort.analyse.cox.cox_ph(weights=, robust=, cluster=) and
# cartcohort.analyse.logistic.logistic_regression(weights=, robust=, cluster=).
#
# Run from the repository root:  Rscript tests/reference/r/weights_robust.R
# Writes tests/reference/cases/weights_robust.json with, for every case, the input data
# (so the Python tests need no R), the specification and R's results.
# Cox fits use tight convergence (coxph.control(eps = 1e-12, iter.max = 100)) so that
# the comparison measures the algorithms, not R's stopping rule.
suppressPackageStartupMessages({
  library(survival)
  library(sandwich)
  library(jsonlite)
})

ctrl <- suppressWarnings(coxph.control(eps = 1e-12, iter.max = 100))
set.seed(20261207)

# ---- data ------------------------------------------------------------------------------
n <- 60
base <- data.frame(
  id = rep(sprintf("p%02d", 1:30), length.out = n)[sample(n)],  # clusters of 1-3 rows
  days = sample(1:25, n, replace = TRUE),                         # many tied event times
  died = rbinom(n, 1, 0.7),
  age = round(rnorm(n, 55, 10), 1),
  arm = sample(c("A", "B"), n, replace = TRUE),
  centre = sample(c("c1", "c2", "c3"), n, replace = TRUE),
  iw = sample(1:3, n, replace = TRUE),                            # integer weights
  stringsAsFactors = FALSE
)
# IPW-like weights: inverse of a fitted propensity of arm B given age
ps <- fitted(glm(I(arm == "B") ~ age, binomial, base))
base$ipw <- round(ifelse(base$arm == "B", 1 / ps, 1 / (1 - ps)), 6)
# cluster sizes 1-3
sizes <- rep(1:3, length.out = 30)
base$cl <- rep(sprintf("k%02d", 1:30), times = sizes)[seq_len(n)]

# counting-process data: each subject's follow-up split at day 8 when it lasts longer
split_rows <- function(df) {
  out <- list()
  for (i in seq_len(nrow(df))) {
    r <- df[i, ]
    if (r$days > 8) {
      a <- r; a$start <- 0; a$stop <- 8; a$status <- 0; a$dose <- 1
      b <- r; b$start <- 8; b$stop <- r$days; b$status <- r$died; b$dose <- 2
      out[[length(out) + 1]] <- a; out[[length(out) + 1]] <- b
    } else {
      a <- r; a$start <- 0; a$stop <- r$days; a$status <- r$died; a$dose <- 1
      out[[length(out) + 1]] <- a
    }
  }
  res <- do.call(rbind, out)
  res$subject <- rep(seq_len(nrow(df)), times = ifelse(df$days > 8, 2, 1))
  res
}
cp <- split_rows(base[1:40, ])
cp$dose <- cp$dose + round(cp$age / 50, 2)

# ---- Cox ---------------------------------------------------------------------------------
cox_case <- function(id, description, df, covariates, weights = NULL, cluster = NULL,
                     robust = FALSE, ties = "efron", strata = NULL, start = NULL,
                     time = "days", event = "died") {
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(strata)) rhs <- paste0(rhs, " + strata(", strata, ")")
  lhs <- if (is.null(start)) sprintf("Surv(%s, %s)", time, event) else
    sprintf("Surv(%s, %s, %s)", start, time, event)
  form <- as.formula(paste(lhs, "~", rhs))
  args <- list(formula = form, data = df, ties = ties, control = ctrl)
  if (!is.null(weights)) args$weights <- df[[weights]]
  if (robust) args$robust <- TRUE
  if (!is.null(cluster)) args$cluster <- df[[cluster]]
  fit <- do.call(coxph, args)
  s <- summary(fit)
  rob <- robust || !is.null(cluster)
  cc <- concordance(fit)
  expected <- list(
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$var))),
    naive_se = if (rob) unname(sqrt(diag(fit$naive.var))) else NULL,
    lower = unname(s$conf.int[, "lower .95"]),
    upper = unname(s$conf.int[, "upper .95"]),
    z = unname(s$coefficients[, "z"]),
    p_value = unname(s$coefficients[, "Pr(>|z|)"]),
    loglik = unname(fit$loglik),
    lr_test = unname(s$logtest),
    wald_test = unname(fit$wald.test),
    score_test = unname(s$sctest),
    robust_score = if (rob) unname(fit$rscore) else NULL,
    n = fit$n, n_events = fit$nevent,
    concordance = unname(cc$concordance),
    concordance_se = sqrt(unname(cc$var)),
    concordance_counts = unname(if (is.matrix(cc$count)) colSums(cc$count) else cc$count)
  )
  list(id = id, description = description, kind = "cox",
       spec = list(time = time, event = event, covariates = covariates, weights = weights,
                   cluster = cluster, robust = robust, ties = ties, strata = strata,
                   start = start),
       input = df, expected = expected)
}

cases <- list(
  cox_case("cox_integer_weights", "integer weights 1-3, Efron ties, robust",
           base, c("age", "arm"), weights = "iw", robust = TRUE),
  # Integer weights equal repeated rows exactly with Breslow ties; with Efron they do not
  # (repeating a death adds tied deaths, which Efron's approximation treats differently).
  cox_case("cox_integer_weights_breslow", "integer weights 1-3, Breslow ties",
           base, c("age", "arm"), weights = "iw", ties = "breslow"),
  cox_case("cox_integer_replicated", "the integer-weight data with each row repeated, Breslow",
           base[rep(seq_len(n), base$iw), ], c("age", "arm"), ties = "breslow"),
  cox_case("cox_ipw", "inverse-probability weights, Efron, robust",
           base, c("arm"), weights = "ipw", robust = TRUE),
  cox_case("cox_cluster", "IPW weights, clusters of 1-3 rows, Efron ties",
           base, c("age", "arm"), weights = "ipw", cluster = "cl"),
  cox_case("cox_cluster_unweighted", "no weights, cluster only (clustered concordance SE)",
           base, c("age", "arm"), cluster = "cl"),
  cox_case("cox_breslow_cluster", "IPW weights, Breslow ties, cluster",
           base, c("age", "arm"), weights = "ipw", cluster = "cl", ties = "breslow"),
  cox_case("cox_strata", "IPW weights, strata(centre), cluster",
           base, c("age", "arm"), weights = "ipw", cluster = "cl", strata = "centre"),
  cox_case("cox_start_stop", "split follow-up (start, stop], weights, cluster = subject",
           cp, c("dose", "arm"), weights = "ipw", cluster = "subject", start = "start",
           time = "stop", event = "status")
)
# R refuses robust = TRUE without cluster for (start, stop] data ("one of cluster or id
# is needed"); cox_ph raises a named error instead of treating rows as independent.

# ---- logistic -------------------------------------------------------------------------
# Tight IRLS convergence, so the comparison measures the algorithms, not the stopping rule.
gctrl <- glm.control(epsilon = 1e-14, maxit = 100)
lbase <- base
lbase$crs <- rbinom(n, 1, plogis(-3 + 0.05 * lbase$age))
logit_case <- function(id, description, df, covariates, weights = NULL, cluster = NULL,
                       robust = FALSE) {
  form <- as.formula(paste("crs ~", paste(covariates, collapse = " + ")))
  warns <- character(0)
  fit <- withCallingHandlers(
    if (is.null(weights)) glm(form, binomial, df, control = gctrl) else
      glm(form, binomial, df, weights = df[[weights]], control = gctrl),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  naive <- vcov(fit)
  if (!is.null(cluster)) {
    v <- vcovCL(fit, cluster = df[[cluster]])  # defaults: type "HC0", cadjust = TRUE (G/(G-1))
  } else if (robust) {
    v <- vcovHC(fit, type = "HC0")
  } else {
    v <- naive
  }
  se <- sqrt(diag(v))
  z <- coef(fit) / se
  expected <- list(
    coef = unname(coef(fit)),
    se = unname(se),
    naive_se = unname(sqrt(diag(naive))),
    z = unname(z),
    p_value = unname(2 * pnorm(-abs(z))),
    lower = unname(exp(coef(fit) - qnorm(0.975) * se)),
    upper = unname(exp(coef(fit) + qnorm(0.975) * se)),
    lr_statistic = fit$null.deviance - fit$deviance,
    loglik = if (is.null(weights) || all(df[[weights]] == round(df[[weights]])))
      as.numeric(logLik(fit)) else NULL,
    r_warnings = warns
  )
  list(id = id, description = description, kind = "logistic",
       spec = list(outcome = "crs", covariates = covariates, weights = weights,
                   cluster = cluster, robust = robust),
       input = df, expected = expected)
}
positive <- lbase[lbase$ipw > 0, ]
zero <- lbase; zero$zw <- zero$ipw; zero$zw[c(3, 17)] <- 0
cases <- c(cases, list(
  logit_case("logit_integer_weights", "integer prior weights, HC0", lbase, c("age", "arm"),
             weights = "iw", robust = TRUE),
  logit_case("logit_integer_replicated", "the integer-weight data with rows repeated",
             lbase[rep(seq_len(n), lbase$iw), ], c("age", "arm")),
  logit_case("logit_ipw_hc0", "IPW weights (R warns non-integer #successes), vcovHC HC0",
             lbase, c("age", "arm"), weights = "ipw", robust = TRUE),
  logit_case("logit_ipw_cluster", "IPW weights, vcovCL(cluster = ~cl) defaults",
             lbase, c("age", "arm"), weights = "ipw", cluster = "cl"),
  logit_case("logit_cluster_unweighted", "no weights, vcovCL(cluster = ~cl) defaults",
             lbase, c("age", "arm"), cluster = "cl"),
  logit_case("logit_zero_weights_dropped",
             "two zero weights: R's glm on the rows with positive weight",
             zero[zero$zw > 0, ], c("age", "arm"), weights = "zw", cluster = "cl")
))

out <- list(
  generated_by = "tests/reference/r/weights_robust.R",
  r_version = R.version.string,
  packages = list(survival = as.character(packageVersion("survival")),
                  sandwich = as.character(packageVersion("sandwich"))),
  cases = cases
)
write_json(out, "tests/reference/cases/weights_robust.json", auto_unbox = TRUE, digits = NA,
           pretty = FALSE, null = "null", na = "null")
cat("wrote", length(cases), "cases\n")
