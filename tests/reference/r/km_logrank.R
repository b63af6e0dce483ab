# Reference values for cartcohort.analyse.km and cartcohort.analyse.logrank.
#
# Run from the repository root:
#     Rscript tests/reference/r/km_logrank.R
# It writes tests/reference/cases/km_logrank.json: every input data set (so the Python
# tests do not need R), the expected values, the tolerance and the provenance.
# Never edit the JSON by hand; rerun this script.
#
# Oracles:
#   Kaplan-Meier table   summary(survfit(...), censored = TRUE)
#   landmark rows        summary(survfit(...), times = ..., extend = FALSE)
#   median and its CI    quantile(survfit(...), 0.5)   (print(survfit) also stored)
#   median follow-up     quantile(survfit(Surv(time, 1 - event) ~ 1), 0.5)
#   log-rank / G-rho     survdiff(Surv(time, event) ~ group [+ strata(s)], rho = rho)
#   trend test           computed here from survdiff's obs, exp and var:
#                        U = c'(O - E), V = c' var c, statistic U^2 / V on 1 df.
#                        (survminer's surv_pvalue(test.for.trend = TRUE) reports this test;
#                        survminer is not installed here, so it is computed directly.)

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

script <- "tests/reference/r/km_logrank.R"
out_path <- "tests/reference/cases/km_logrank.json"

# ------------------------------------------------------------------------------------------
# data sets: time, event (0/1), group (character, may be NA), strata (optional)
# ------------------------------------------------------------------------------------------

mk <- function(time, event, group = NULL, levels = NULL, strata = NULL, strata_levels = NULL,
               source = "") {
  d <- list(time = as.numeric(time), event = as.integer(event), source = source)
  if (!is.null(group)) {
    d$group <- as.character(group)
    d$levels <- as.character(levels)
  }
  if (!is.null(strata)) {
    d$strata <- as.character(strata)
    d$strata_levels <- as.character(strata_levels)
  }
  d
}

lung2 <- lung
lung2$event <- lung2$status - 1
sex_lab <- c("male", "female")[lung2$sex]
pbc_death <- as.integer(pbc$status == 2)
colon_death <- colon[colon$etype == 2, ]

set.seed(20240611)
n_ties <- 60
ties <- data.frame(
  time = sample(1:6, n_ties, replace = TRUE),
  event = rbinom(n_ties, 1, 0.6),
  group = sample(c("low", "mid", "high"), n_ties, replace = TRUE),
  strata = sample(c("s1", "s2"), n_ties, replace = TRUE)
)

datasets <- list(
  lung_sex = mk(lung2$time, lung2$event, sex_lab, c("male", "female"),
                lung2$ph.ecog, sort(unique(na.omit(lung2$ph.ecog))),
                source = "survival::lung; event = status - 1; strata = ph.ecog (1 NA)"),
  lung_ecog = mk(lung2$time, lung2$event, lung2$ph.ecog, c("0", "1", "2", "3"),
                 sex_lab, c("male", "female"),
                 source = "survival::lung; group = ph.ecog (1 NA; level 3 has 1 subject)"),
  aml_x = mk(aml$time, aml$status, as.character(aml$x), levels(aml$x), source = "survival::aml"),
  veteran_celltype = mk(veteran$time, veteran$status, as.character(veteran$celltype),
                        levels(veteran$celltype), as.character(veteran$trt), c("1", "2"),
                        source = "survival::veteran; strata = trt"),
  veteran_trt = mk(veteran$time, veteran$status, as.character(veteran$trt), c("1", "2"),
                   as.character(veteran$celltype), levels(veteran$celltype),
                   source = "survival::veteran; strata = celltype"),
  ovarian_rx = mk(ovarian$futime, ovarian$fustat, as.character(ovarian$rx), c("1", "2"),
                  as.character(ovarian$resid.ds), c("1", "2"),
                  source = "survival::ovarian; strata = resid.ds"),
  pbc_trt = mk(pbc$time, pbc_death, as.character(pbc$trt), c("1", "2"),
               source = "survival::pbc; event = (status == 2); trt NA for 106 subjects"),
  colon_rx = mk(colon_death$time, colon_death$status, as.character(colon_death$rx),
                levels(colon_death$rx), as.character(colon_death$sex), c("0", "1"),
                source = "survival::colon, etype == 2 (death); strata = sex"),
  ties_heavy = mk(ties$time, ties$event, ties$group, c("low", "mid", "high"),
                  ties$strata, c("s1", "s2"),
                  source = "simulated, seed 20240611: 60 subjects on 6 integer times"),
  flat_half = mk(c(1, 2, 3, 4, 5, 6), c(1, 1, 1, 0, 1, 0),
                 source = "S = 0.5 exactly on [3, 5): median is the midpoint 4"),
  ends_flat_half = mk(c(1, 2, 3, 4), c(1, 1, 0, 0),
                      source = "S ends at exactly 0.5: quantile.survfit gives (2 + 4) / 2"),
  events_time0 = mk(c(0, 0, 0, 1, 2, 2, 3, 5, 0, 1, 1, 4, 6, 6),
                    c(1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1),
                    rep(c("a", "b"), c(8, 6)), c("a", "b"),
                    source = "events (and a censoring) at time 0"),
  censored_group = mk(c(2, 4, 5, 7, 9, 11, 3, 6, 8, 10, 12),
                      c(1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0),
                      rep(c("treated", "control"), c(6, 5)), c("control", "treated"),
                      source = "group control is all censored (but at risk at events)"),
  single_obs_group = mk(c(3, 5, 7, 9, 11, 4, 6, 8, 10, 6),
                        c(1, 1, 0, 1, 0, 1, 0, 1, 1, 1),
                        rep(c("A", "B", "C"), c(5, 4, 1)), c("A", "B", "C"),
                        source = "group C has one subject"),
  zero_expected = mk(c(5, 6, 7, 8, 9, 10, 1, 2, 6, 8, 11, 12),
                     c(1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0),
                     rep(c("A", "Z", "B"), c(6, 2, 4)), c("A", "Z", "B"),
                     source = "group Z is censored before the first event: expected = 0"),
  not_reached = mk(c(2, 3, 5, 8, 10, 12, 15, 18, 20, 25),
                   c(1, 0, 0, 1, 0, 0, 1, 0, 0, 0),
                   source = "S never reaches 0.5"),
  all_censored = mk(c(1, 2, 3, 4), c(0, 0, 0, 0), source = "no events at all")
)

# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------

frame_of <- function(d, by = TRUE, strata = FALSE) {
  x <- data.frame(time = d$time, event = d$event)
  if (by) x$group <- factor(d$group, levels = d$levels)
  if (strata) x$strata <- factor(d$strata, levels = d$strata_levels)
  x
}

group_index <- function(s, n) {
  if (is.null(s)) rep(1L, n) else as.integer(s)
}

km_fit <- function(d, by, ci_method, level) {
  x <- frame_of(d, by)
  f <- if (by) Surv(time, event) ~ group else Surv(time, event) ~ 1
  survfit(f, data = x, conf.type = ci_method, conf.int = level)
}

lev <- function(d, by) if (by) d$levels else "all"

km_case <- function(id, ds, by, ci_method, level, times) {
  d <- datasets[[ds]]
  fit <- km_fit(d, by, ci_method, level)
  labels <- lev(d, by)
  s <- summary(fit, censored = TRUE)
  table <- list(
    group = labels[group_index(s$strata, length(s$time))],
    time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
    estimate = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper
  )
  q <- quantile(fit, probs = 0.5)
  pt <- summary(fit)$table
  if (is.null(dim(pt))) pt <- matrix(pt, nrow = 1, dimnames = list(NULL, names(pt)))
  nc <- ncol(pt)
  present <- if (by) labels[labels %in% d$group] else labels
  median <- list(group = present, n = unname(pt[, "records"]), n_events = unname(pt[, "events"]),
                 estimate = as.vector(q$quantile), lower = as.vector(q$lower),
                 upper = as.vector(q$upper))
  print_median <- list(group = present, estimate = unname(pt[, "median"]),
                       lower = unname(pt[, nc - 1]), upper = unname(pt[, nc]))
  a <- summary(fit, times = times, extend = FALSE)
  at <- list(
    group = labels[group_index(a$strata, length(a$time))],
    time = a$time, n_risk = a$n.risk, n_event = a$n.event, n_censor = a$n.censor,
    estimate = a$surv, std_err = a$std.err, lower = a$lower, upper = a$upper
  )
  n_excluded <- if (is.null(fit$na.action)) 0L else length(fit$na.action)
  list(id = id, dataset = ds, by = by, ci_method = ci_method, confidence_level = level,
       times = times,
       expected = list(table = table, median = median, print_median = print_median, at = at,
                       n_excluded = n_excluded))
}

survdiff_of <- function(d, strata, rho) {
  x <- frame_of(d, TRUE, strata)
  f <- if (strata) Surv(time, event) ~ group + strata(strata) else Surv(time, event) ~ group
  survdiff(f, data = x, rho = rho)
}

summed <- function(m) if (is.matrix(m)) rowSums(m) else m

logrank_case <- function(id, ds, strata = FALSE, rho = 0) {
  d <- datasets[[ds]]
  s <- survdiff_of(d, strata, rho)
  o <- summed(s$obs)
  e <- summed(s$exp)
  list(id = id, dataset = ds, strata = strata, rho = rho,
       expected = list(statistic = s$chisq, df = sum(e > 0) - 1, p_value = s$pvalue,
                       groups = names(s$n), observed = o, expected = e, variance = s$var,
                       n = as.integer(s$n), n_excluded = length(s$na.action)))
}

trend_case <- function(id, ds, scores = NULL, strata = FALSE) {
  d <- datasets[[ds]]
  s <- survdiff_of(d, strata, 0)
  o <- summed(s$obs)
  e <- summed(s$exp)
  c <- if (is.null(scores)) seq_along(o) else scores
  u <- sum(c * (o - e))
  v <- drop(t(c) %*% s$var %*% c)
  stat <- u^2 / v
  list(id = id, dataset = ds, scores = if (is.null(scores)) NA else scores, strata = strata,
       expected = list(statistic = stat, df = 1, p_value = pchisq(stat, 1, lower.tail = FALSE),
                       z = u / sqrt(v), score_statistic = u, score_variance = v,
                       observed = o, expected = e))
}

follow_up_case <- function(id, ds, ci_method, level) {
  d <- datasets[[ds]]
  x <- data.frame(time = d$time, event = d$event)
  fit <- survfit(Surv(time, 1 - event) ~ 1, data = x, conf.type = ci_method, conf.int = level)
  q <- quantile(fit, probs = 0.5)
  list(id = id, dataset = ds, ci_method = ci_method, confidence_level = level,
       expected = list(estimate = as.vector(q$quantile), lower = as.vector(q$lower),
                       upper = as.vector(q$upper)))
}

# ------------------------------------------------------------------------------------------
# cases
# ------------------------------------------------------------------------------------------

lung_times <- c(0, 30, 90, 180, 365, 730, 1000, 2000)
km <- list()
for (m in c("log", "log-log", "plain")) {
  for (lv in c(0.95, 0.90)) {
    km[[length(km) + 1]] <- km_case(sprintf("lung-sex-%s-%g", m, lv), "lung_sex", TRUE, m, lv,
                                    lung_times)
  }
}
more_km <- list(
  list("lung-all-log-log", "lung_sex", FALSE, "log-log", 0.95, lung_times),
  list("lung-all-plain", "lung_sex", FALSE, "plain", 0.95, lung_times),
  list("lung-ecog-log", "lung_ecog", TRUE, "log", 0.95, c(100, 200, 400)),
  list("aml-x-log", "aml_x", TRUE, "log", 0.95, c(5, 12, 23, 40, 161)),
  list("aml-x-log-log", "aml_x", TRUE, "log-log", 0.95, c(5, 12, 23, 40)),
  list("veteran-celltype-log-log", "veteran_celltype", TRUE, "log-log", 0.95, c(30, 90, 180)),
  list("veteran-celltype-log", "veteran_celltype", TRUE, "log", 0.90, c(30, 90, 180)),
  list("veteran-trt-plain", "veteran_trt", TRUE, "plain", 0.95, c(30, 90, 180, 365)),
  list("ovarian-rx-log-log", "ovarian_rx", TRUE, "log-log", 0.95, c(100, 365, 730)),
  list("ovarian-rx-log", "ovarian_rx", TRUE, "log", 0.95, c(100, 365, 730)),
  list("pbc-trt-log-log", "pbc_trt", TRUE, "log-log", 0.95, c(365, 1826, 3652)),
  list("colon-rx-log", "colon_rx", TRUE, "log", 0.95, c(365, 1826)),
  list("ties-log-log", "ties_heavy", TRUE, "log-log", 0.95, c(1, 2.5, 4, 6)),
  list("ties-plain-90", "ties_heavy", TRUE, "plain", 0.90, c(1, 2.5, 4, 6)),
  list("flat-half-log", "flat_half", FALSE, "log", 0.95, c(3, 4.5)),
  list("flat-half-log-log", "flat_half", FALSE, "log-log", 0.95, c(3, 4.5)),
  list("ends-flat-half-log", "ends_flat_half", FALSE, "log", 0.95, c(2, 4)),
  list("time0-log-log", "events_time0", TRUE, "log-log", 0.95, c(0, 1, 3)),
  list("time0-log", "events_time0", TRUE, "log", 0.95, c(0, 1, 3)),
  list("censored-group-log-log", "censored_group", TRUE, "log-log", 0.95, c(0, 5, 10)),
  list("single-obs-group-log-log", "single_obs_group", TRUE, "log-log", 0.95, c(2, 6)),
  list("not-reached-log-log", "not_reached", FALSE, "log-log", 0.95, c(10, 25)),
  list("all-censored-log", "all_censored", FALSE, "log", 0.95, c(2))
)
for (a in more_km) km[[length(km) + 1]] <- do.call(km_case, unname(a))

logrank <- list(
  logrank_case("lung-sex", "lung_sex"),
  logrank_case("lung-sex-rho1", "lung_sex", rho = 1),
  logrank_case("lung-sex-rho0.5", "lung_sex", rho = 0.5),
  logrank_case("lung-sex-strata-ecog", "lung_sex", strata = TRUE),
  logrank_case("lung-sex-strata-ecog-rho1", "lung_sex", strata = TRUE, rho = 1),
  logrank_case("lung-ecog", "lung_ecog"),
  logrank_case("lung-ecog-strata-sex", "lung_ecog", strata = TRUE),
  logrank_case("aml-x", "aml_x"),
  logrank_case("veteran-celltype", "veteran_celltype"),
  logrank_case("veteran-trt", "veteran_trt"),
  logrank_case("veteran-trt-strata-celltype", "veteran_trt", strata = TRUE),
  logrank_case("ovarian-rx-strata-resid", "ovarian_rx", strata = TRUE),
  logrank_case("pbc-trt", "pbc_trt"),
  logrank_case("colon-rx-strata-sex", "colon_rx", strata = TRUE),
  logrank_case("colon-rx-rho2", "colon_rx", rho = 2),
  logrank_case("ties", "ties_heavy"),
  logrank_case("ties-rho1", "ties_heavy", rho = 1),
  logrank_case("ties-strata", "ties_heavy", strata = TRUE),
  logrank_case("time0", "events_time0"),
  logrank_case("censored-group", "censored_group"),
  logrank_case("single-obs-group", "single_obs_group"),
  logrank_case("zero-expected", "zero_expected")
)

trend <- list(
  trend_case("lung-ecog", "lung_ecog"),
  trend_case("lung-ecog-scores", "lung_ecog", scores = c(0, 1, 2, 4)),
  trend_case("lung-ecog-strata-sex", "lung_ecog", strata = TRUE),
  trend_case("veteran-celltype", "veteran_celltype"),
  trend_case("colon-rx", "colon_rx"),
  trend_case("colon-rx-strata-sex", "colon_rx", strata = TRUE),
  trend_case("ties", "ties_heavy"),
  trend_case("ties-strata", "ties_heavy", scores = c(-1, 0, 3), strata = TRUE)
)

follow_up <- list(
  follow_up_case("lung-log", "lung_sex", "log", 0.95),
  follow_up_case("lung-log-log", "lung_sex", "log-log", 0.95),
  follow_up_case("lung-plain", "lung_sex", "plain", 0.95),
  follow_up_case("aml-log-log", "aml_x", "log-log", 0.95),
  follow_up_case("veteran-log-log-90", "veteran_celltype", "log-log", 0.90)
)

out <- list(
  provenance = list(
    source = R.version.string,
    packages = list(survival = as.character(packageVersion("survival")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    script = script,
    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
    notes = paste("NA and NaN are written as null.",
                  "Trend test computed from survdiff obs/exp/var (U = c'(O-E), V = c'Vc).")
  ),
  rtol = 1e-10,
  datasets = datasets,
  km = km,
  logrank = logrank,
  trend = trend,
  follow_up = follow_up
)

write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote", out_path, "\n")
