# Reference values for cartcohort.analyse.rmst (rmst, milestone_difference).
#
# Run from the repository root:  Rscript tests/reference/r/rmst.R
# Writes tests/reference/cases/rmst.json: input data, expected values, tolerance, provenance.
#
# Oracles:
#   per-group RMST and SE   summary(survfit(Surv(time, event) ~ group), rmean = tau)$table
#                           (columns rmean, se(rmean)); survRM2 uses the same formula.
#   contrasts               survRM2::rmst2 is not installed (no Debian package r-cran-survrm2),
#                           so its documented contrasts are computed here from survival's
#                           rmean and se(rmean): difference with SE sqrt(se1^2 + se0^2);
#                           RMST ratio and RMTL ratio on the log scale (delta method);
#                           Wald intervals, two-sided normal p-values.
#   milestone               summary(survfit(...), times = at): surv and std.err per group;
#                           difference with SE sqrt(se1^2 + se0^2), Wald interval and z test.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

set.seed(20261209)
ties <- data.frame(time = sample(1:12, 90, replace = TRUE), event = rbinom(90, 1, 0.6),
                   group = sample(c("A", "B", "C"), 90, replace = TRUE))

datasets <- list(
  veteran_trt = list(data = data.frame(time = veteran$time, event = veteran$status,
                                       group = as.character(veteran$trt)),
                     levels = c("1", "2"), source = "survival::veteran, group = trt"),
  lung_sex = list(data = data.frame(time = lung$time, event = lung$status - 1,
                                    group = c("male", "female")[lung$sex]),
                  levels = c("male", "female"), source = "survival::lung, group = sex"),
  aml_x = list(data = data.frame(time = aml$time, event = aml$status, group = as.character(aml$x)),
               levels = levels(aml$x), source = "survival::aml"),
  ties3 = list(data = ties, levels = c("A", "B", "C"),
               source = "90 simulated rows, times 1..12, 3 groups (seeded)")
)

contrast <- function(e1, s1, e0, s0, tau, z) {
  d <- e1 - e0; sd <- sqrt(s1^2 + s0^2)
  lr <- log(e1) - log(e0); slr <- sqrt(s1^2 / e1^2 + s0^2 / e0^2)
  l1 <- tau - e1; l0 <- tau - e0
  ll <- log(l1) - log(l0); sll <- sqrt(s1^2 / l1^2 + s0^2 / l0^2)
  list(
    difference = c(d, sd, d - z * sd, d + z * sd, d / sd, 2 * pnorm(-abs(d) / sd)),
    ratio = c(exp(lr), slr, exp(lr - z * slr), exp(lr + z * slr), lr / slr, 2 * pnorm(-abs(lr) / slr)),
    rmtl_ratio = c(exp(ll), sll, exp(ll - z * sll), exp(ll + z * sll), ll / sll, 2 * pnorm(-abs(ll) / sll))
  )
}

rmst_case <- function(name, tau, level = 0.95) {
  ds <- datasets[[name]]
  d <- ds$data
  d$g <- factor(d$group, levels = ds$levels)
  fit <- survfit(Surv(time, event) ~ g, data = d)
  tab <- summary(fit, rmean = tau)$table
  z <- qnorm(0.5 + level / 2)
  est <- unname(tab[, "rmean"]); se <- unname(tab[, "se(rmean)"])
  con <- list()
  for (k in seq_along(est)[-1]) con[[length(con) + 1]] <- c(list(group = ds$levels[k]),
                                                         contrast(est[k], se[k], est[1], se[1], tau, z))
  ungrouped <- summary(survfit(Surv(time, event) ~ 1, data = d), rmean = tau)$table
  list(dataset = name, tau = tau, confidence_level = level,
       estimate = est, std_err = se, lower = est - z * se, upper = est + z * se,
       n = unname(tab[, "records"]), n_events = unname(tab[, "events"]),
       contrasts = con,
       overall = list(estimate = unname(ungrouped["rmean"]), std_err = unname(ungrouped["se(rmean)"])))
}

milestone_case <- function(name, at, level = 0.95) {
  ds <- datasets[[name]]
  d <- ds$data
  d$g <- factor(d$group, levels = ds$levels)
  s <- summary(survfit(Surv(time, event) ~ g, data = d, conf.type = "log-log", conf.int = level),
               times = at)
  z <- qnorm(0.5 + level / 2)
  con <- list()
  for (k in seq_along(s$surv)[-1]) {
    dd <- s$surv[k] - s$surv[1]; sd <- sqrt(s$std.err[k]^2 + s$std.err[1]^2)
    con[[length(con) + 1]] <- list(group = ds$levels[k],
                                   values = c(dd, sd, dd - z * sd, dd + z * sd, dd / sd, 2 * pnorm(-abs(dd) / sd)))
  }
  list(dataset = name, at = at, confidence_level = level, estimate = s$surv, std_err = s$std.err,
       lower = s$lower, upper = s$upper, n_risk = s$n.risk, contrasts = con)
}

pkg <- function(p) as.character(packageVersion(p))
out <- list(
  provenance = list(source = R.version.string,
                    packages = list(survival = pkg("survival"), jsonlite = pkg("jsonlite")),
                    script = "tests/reference/r/rmst.R",
                    survRM2 = "not installed; contrasts computed from its documented formulas",
                    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z")),
  datasets = lapply(datasets, function(ds) list(data = ds$data, levels = ds$levels, source = ds$source)),
  rmst = list(rmst_case("veteran_trt", 100), rmst_case("veteran_trt", 365, 0.9),
              rmst_case("lung_sex", 365), rmst_case("lung_sex", 700),
              rmst_case("aml_x", 45), rmst_case("ties3", 10), rmst_case("ties3", 11)),
  milestone = list(milestone_case("veteran_trt", 180), milestone_case("lung_sex", 365),
                   milestone_case("lung_sex", 180, 0.9), milestone_case("ties3", 6)),
  rtol = list(closed_form = 1e-10)
)
write_json(out, "tests/reference/cases/rmst.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null", dataframe = "columns")
cat("wrote tests/reference/cases/rmst.json\n")
