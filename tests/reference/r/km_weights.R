# Reference values for weighted Kaplan-Meier curves:
# cartcohort.analyse.km.kaplan_meier(weights=, robust=, cluster=).
#
# Run from the repository root:  Rscript tests/reference/r/km_weights.R
# Writes tests/reference/cases/km_weights.json with, for every case, the input data
# (so the Python tests need no R), the specification and R's results.
#
# Oracles (survival 3.5-3):
#   table        summary(survfit(Surv(time, event) ~ group, data, weights = w,
#                        robust = , cluster = ), censored = TRUE)
#   logse        fit$logse (FALSE when the infinitesimal-jackknife SE of S is used)
#   median       quantile(fit, 0.5)
# R's default: robust = TRUE when any weight is not a whole number or a cluster is
# given; the standard error is then the infinitesimal jackknife one, else Greenwood with
# weighted counts.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

script <- "tests/reference/r/km_weights.R"
out_path <- "tests/reference/cases/km_weights.json"
set.seed(20261208)

n <- 48
base <- data.frame(
  time = sample(1:15, n, replace = TRUE),                         # many tied times
  event = rbinom(n, 1, 0.65),
  group = sample(c("A", "B"), n, replace = TRUE),
  age = round(rnorm(n, 55, 10), 1),
  iw = sample(1:3, n, replace = TRUE),                           # integer weights
  stringsAsFactors = FALSE
)
ps <- fitted(glm(I(group == "B") ~ age, binomial, base))
base$ipw <- round(ifelse(base$group == "B", 1 / ps, 1 / (1 - ps)), 6)  # IPW-like
sizes <- rep(1:3, length.out = 24)
base$cl <- rep(sprintf("k%02d", 1:24), times = sizes)[seq_len(n)][sample(n)]  # 1-3 rows
base$ipw0 <- base$ipw
base$ipw0[c(3, 17, 30)] <- 0                                    # zero weights
base$iw0 <- base$iw
base$iw0[c(5, 22)] <- 0

# every subject at risk at the last time dies there: S reaches 0
wipe <- data.frame(
  time = c(2, 3, 3, 5, 6, 8, 8, 9, 9, 9),
  event = c(1, 0, 1, 1, 0, 1, 0, 1, 1, 1),
  ipw = c(1.5, 0.7, 2.25, 1.1, 0.9, 1.3, 2.0, 0.8, 1.6, 1.2),
  cl = c("a", "a", "b", "c", "c", "d", "e", "e", "f", "f"),
  stringsAsFactors = FALSE
)

num <- function(x) as.numeric(x)

km_case <- function(id, description, df, by = NULL, weights = NULL, robust = NULL,
                    cluster = NULL, conf_type = "log-log") {
  rhs <- if (is.null(by)) "1" else by
  f <- as.formula(paste("Surv(time, event) ~", rhs))
  args <- list(formula = f, data = df, conf.type = conf_type)
  if (!is.null(weights)) args$weights <- df[[weights]]
  if (!is.null(robust)) args$robust <- robust
  if (!is.null(cluster)) args$cluster <- df[[cluster]]
  fit <- do.call(survfit, args)
  s <- summary(fit, censored = TRUE)
  grp <- if (is.null(s$strata)) rep("all", length(s$time)) else
    sub("^[^=]*=", "", as.character(s$strata))
  q <- quantile(fit, 0.5)
  med <- function(m) num(if (is.matrix(m)) m[, 1] else m)
  list(
    id = id,
    description = description,
    input = df,
    spec = list(by = by, weights = weights, robust = robust, cluster = cluster,
                ci_method = conf_type),
    expected = list(
      logse = fit$logse,
      group = grp,
      time = num(s$time),
      n_risk = num(s$n.risk),
      n_event = num(s$n.event),
      n_censor = num(s$n.censor),
      estimate = num(s$surv),
      std_err = num(s$std.err),
      lower = num(s$lower),
      upper = num(s$upper),
      median = med(q$quantile),
      median_lower = med(q$lower),
      median_upper = med(q$upper)
    )
  )
}

cols <- c("time", "event", "group", "iw", "ipw", "cl", "ipw0", "iw0")
d <- base[, cols]
cases <- list(
  km_case("int_one", "integer weights, one curve: Greenwood with weighted counts",
          d, weights = "iw"),
  km_case("int_groups_log", "integer weights, two groups, log CI", d, by = "group",
          weights = "iw", conf_type = "log"),
  km_case("ipw_groups", "non-integer weights: robust (IJ) by default", d, by = "group",
          weights = "ipw"),
  km_case("ipw_groups_log", "non-integer weights, log CI", d, by = "group",
          weights = "ipw", conf_type = "log"),
  km_case("ipw_plain", "non-integer weights, one curve, plain CI", d, weights = "ipw",
          conf_type = "plain"),
  km_case("ipw_cluster", "non-integer weights, clusters of 1-3 rows", d, by = "group",
          weights = "ipw", cluster = "cl"),
  km_case("int_cluster", "integer weights with cluster: robust", d, weights = "iw",
          cluster = "cl"),
  km_case("unweighted_cluster", "no weights, cluster: robust", d, by = "group",
          cluster = "cl"),
  km_case("int_robust", "integer weights, robust = TRUE (each row its own cluster)", d,
          by = "group", weights = "iw", robust = TRUE),
  km_case("unweighted_robust", "no weights, robust = TRUE", d, robust = TRUE),
  km_case("ipw_not_robust", "non-integer weights, robust = FALSE: weighted Greenwood", d,
          by = "group", weights = "ipw", robust = FALSE),
  km_case("ipw_zero", "non-integer weights with three zero weights", d, by = "group",
          weights = "ipw0"),
  km_case("int_zero", "integer weights with two zero weights", d, weights = "iw0"),
  km_case("wipe_ipw", "curve reaches 0, IJ", wipe, weights = "ipw", conf_type = "log"),
  km_case("wipe_cluster", "curve reaches 0, clustered IJ", wipe, weights = "ipw",
          cluster = "cl")
)

out <- list(
  generated_by = script,
  r_version = R.version.string,
  packages = list(survival = as.character(packageVersion("survival")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  cases = cases
)
write_json(out, out_path, digits = NA, auto_unbox = TRUE, null = "null", na = "null",
           pretty = FALSE)
cat("wrote", out_path, "\n")
