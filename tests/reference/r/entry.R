# Reference values for delayed entry (left truncation) in cartcohort.analyse.km
# (kaplan_meier(start=)) and cartcohort.analyse.logrank (logrank_test(start=)).
#
# Run from the repository root:  Rscript tests/reference/r/entry.R
# Writes tests/reference/cases/entry.json: the input data (so the Python tests need no R),
# the expected values, the tolerance and the provenance. Never edit the JSON by hand.
#
# Oracles:
#   Kaplan-Meier table   summary(survfit(Surv(entry, time, event) ~ group), censored = TRUE)
#   landmark rows        summary(survfit(...), times = ..., extend = FALSE)
#   median and its CI    quantile(survfit(...), 0.5)
#   log-rank             survdiff() rejects (start, stop] data ("Right censored data only"),
#                        so the oracle is the score test of
#                        coxph(Surv(entry, time, event) ~ group [+ strata(s)], ties = "exact"),
#                        which equals survdiff's statistic on right-censored data (checked
#                        below on the same data without entry times).
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

set.seed(20261208)
lung2 <- data.frame(time = lung$time, event = lung$status - 1,
                    group = c("male", "female")[lung$sex],
                    strata = as.character(lung$ph.ecog))
lung2$entry <- ifelse(runif(nrow(lung2)) < 0.5, 0, floor(runif(nrow(lung2)) * lung2$time))

vet <- data.frame(time = veteran$time, event = veteran$status,
                  group = as.character(veteran$celltype), strata = as.character(veteran$trt))
vet$entry <- floor(runif(nrow(vet)) * vet$time * 0.7)

# Heavy ties, entries on death days of others.
ties <- data.frame(
  time = sample(2:8, 80, replace = TRUE),
  event = rbinom(80, 1, 0.6),
  group = sample(c("low", "mid", "high"), 80, replace = TRUE),
  strata = sample(c("s1", "s2"), 80, replace = TRUE)
)
ties$entry <- sapply(ties$time, function(t) sample(0:(t - 1), 1))

datasets <- list(
  lung_sex = list(data = lung2, levels = c("male", "female"), strata_levels = c("0", "1", "2", "3"),
                  source = "survival::lung; entry: half 0, half uniform before time (seeded)"),
  veteran_celltype = list(data = vet, levels = levels(veteran$celltype),
                          strata_levels = c("1", "2"),
                          source = "survival::veteran; entry uniform in [0, 0.7 time) (seeded)"),
  ties = list(data = ties, levels = c("low", "mid", "high"), strata_levels = c("s1", "s2"),
              source = "80 simulated rows, times 2..8, entries 0..time-1 (seeded)")
)

km_case <- function(name, conf_type) {
  ds <- datasets[[name]]
  d <- ds$data
  d$g <- factor(d$group, levels = ds$levels)
  fit <- survfit(Surv(entry, time, event) ~ g, data = d, conf.type = conf_type)
  s <- summary(fit, censored = TRUE)
  q <- quantile(fit, 0.5)
  times <- c(30, 100, 180, 365)
  if (name == "ties") times <- c(1, 3, 5, 7)
  st <- summary(fit, times = times, extend = FALSE)
  strip <- function(x) sub("^g=", "", as.character(x))
  list(
    dataset = name, ci_method = if (conf_type == "log-log") "log-log" else conf_type,
    table = list(group = strip(s$strata), time = s$time, n_risk = s$n.risk, n_event = s$n.event,
                 n_censor = s$n.censor, estimate = s$surv, std_err = s$std.err,
                 lower = s$lower, upper = s$upper),
    median = list(group = sub("^g=", "", rownames(q$quantile)), estimate = unname(q$quantile[, 1]),
                  lower = unname(q$lower[, 1]), upper = unname(q$upper[, 1])),
    at = list(times = times, group = strip(st$strata), time = st$time, n_risk = st$n.risk,
              n_event = st$n.event, n_censor = st$n.censor, estimate = st$surv,
              std_err = st$std.err, lower = st$lower, upper = st$upper)
  )
}

logrank_case <- function(name, stratified) {
  ds <- datasets[[name]]
  d <- ds$data
  d$g <- factor(d$group, levels = ds$levels)
  rhs <- if (stratified) "g + strata(strata)" else "g"
  fit <- coxph(as.formula(paste("Surv(entry, time, event) ~", rhs)), data = d, ties = "exact")
  plain <- coxph(as.formula(paste("Surv(time, event) ~", rhs)), data = d, ties = "exact")
  sd <- survdiff(as.formula(paste("Surv(time, event) ~", rhs)), data = d)
  list(dataset = name, stratified = stratified,
       statistic = unname(fit$score), df = length(coef(fit)),
       p_value = pchisq(unname(fit$score), length(coef(fit)), lower.tail = FALSE),
       n_events = fit$nevent,
       check_no_entry = list(coxph_exact_score = unname(plain$score), survdiff = sd$chisq))
}

km <- list()
for (name in names(datasets)) for (ct in c("log-log", "log")) km[[length(km) + 1]] <- km_case(name, ct)
lr <- list()
for (name in names(datasets)) for (s in c(FALSE, TRUE)) lr[[length(lr) + 1]] <- logrank_case(name, s)

pkg <- function(p) as.character(packageVersion(p))
out <- list(
  provenance = list(source = R.version.string,
                    packages = list(survival = pkg("survival"), jsonlite = pkg("jsonlite")),
                    script = "tests/reference/r/entry.R",
                    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z")),
  datasets = lapply(datasets, function(ds) list(data = ds$data, levels = ds$levels,
                                                strata_levels = ds$strata_levels, source = ds$source)),
  kaplan_meier = km,
  logrank = lr,
  rtol = list(closed_form = 1e-10)
)
write_json(out, "tests/reference/cases/entry.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null", dataframe = "columns")
cat("wrote tests/reference/cases/entry.json\n")
