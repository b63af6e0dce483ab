# Reference values for the `time_dependent_exposure` plan analysis (HSCT after CAR-T):
# time-dependent Cox (unadjusted and adjusted), Mantel-Byar test and Simon-Makuch curves,
# computed the way a biostatistician would in R, from the same patient-level data.
#
# Run from the repository root:  Rscript tests/reference/r/exposure.R
# Writes tests/reference/cases/exposure.json with, for every case, the patient rows (so the
# Python tests need no R), R's results and the tolerances.
#
# Oracles:
#   split                  survival::tmerge(..., death = event(time, event), hsct = tdc(hsct_day))
#   time-dependent Cox     coxph(Surv(tstart, tstop, death) ~ hsct [+ covariates], ties = "efron",
#                          control = coxph.control(eps = 1e-12)): HR, 95 % CI, Wald z and p
#   Mantel-Byar test       score test ($score) of coxph(Surv(tstart, tstop, death) ~ hsct,
#                          ties = "exact")
#                          (the log-rank test with time-dependent membership; R has no survdiff
#                          for counting-process data)
#   Simon-Makuch           survfit(Surv(tstart, tstop, death) ~ hsct, conf.type = "log-log"):
#                          survival at fixed days (summary(times = )$surv) and the median with
#                          its 95 % CI (quantile)
# Not an oracle: summary(survfit, times = )$n.risk, which for counting-process data reports the
# risk set at the next event time after each requested time (11 "after HSCT" at day 0 on the
# demo, where nobody is transplanted yet); the at-risk table is tested by counting instead.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

ctrl <- suppressWarnings(coxph.control(eps = 1e-12, iter.max = 100))
pkg <- function(name) as.character(packageVersion(name))

hr_rows <- function(fit, term) {
  s <- summary(fit)
  list(
    hr = unname(s$conf.int[term, "exp(coef)"]),
    lower = unname(s$conf.int[term, "lower .95"]),
    upper = unname(s$conf.int[term, "upper .95"]),
    coef = unname(coef(fit)[term]),
    se = unname(sqrt(diag(fit$var))[which(names(coef(fit)) == term)]),
    z = unname(s$coefficients[term, "z"]),
    p_value = unname(s$coefficients[term, "Pr(>|z|)"]),
    n = fit$n,
    n_events = fit$nevent
  )
}

exposure_case <- function(id, description, d, covariates = character(0), times = c(100, 365, 730)) {
  # d: one row per patient: patient_id, time, event, hsct_day, covariates
  base <- d[, c("patient_id", "time", "event", covariates), drop = FALSE]
  s <- tmerge(base, d, id = patient_id, death = event(time, event), hsct = tdc(hsct_day))
  fit <- coxph(Surv(tstart, tstop, death) ~ hsct, data = s, ties = "efron", control = ctrl)
  exact <- coxph(Surv(tstart, tstop, death) ~ hsct, data = s, ties = "exact", control = ctrl)
  out <- list(unadjusted = hr_rows(fit, "hsct"),
              mantel_byar = list(statistic = exact$score, df = 1L,
                                 p_value = pchisq(exact$score, 1, lower.tail = FALSE)))
  if (length(covariates)) {
    form <- as.formula(paste("Surv(tstart, tstop, death) ~", paste(c(covariates, "hsct"), collapse = " + ")))
    adj <- coxph(form, data = s, ties = "efron", control = ctrl)
    out$adjusted <- hr_rows(adj, "hsct")
  }
  sm <- survfit(Surv(tstart, tstop, death) ~ hsct, data = s, conf.type = "log-log")
  sm_at <- summary(sm, times = times, extend = TRUE)
  med <- quantile(sm, probs = 0.5, conf.int = TRUE)
  out$simon_makuch <- list(
    group = as.integer(sub("hsct=", "", as.character(sm_at$strata))),
    time = sm_at$time, surv = sm_at$surv, std_err = sm_at$std.err,
    median_group = as.integer(sub("hsct=", "", names(med$quantile[, 1]))),
    median = unname(med$quantile[, 1]), median_lower = unname(med$lower[, 1]),
    median_upper = unname(med$upper[, 1])
  )
  out$intervals <- list(n = nrow(s), n_exposed = sum(s$hsct == 1))
  list(id = id, description = description, covariates = covariates, input = d, expected = out)
}

# --- the synthetic demo cohort: OS from death / last follow-up, as cartcohort derives it ----
p <- read.csv("src/cartcohort/demo/data/synthetic/patients.csv", stringsAsFactors = FALSE)
demo <- data.frame(
  patient_id = p$patient_id,
  time = ifelse(p$death == "True", p$death_day, p$last_followup_day),
  event = as.integer(p$death == "True"),
  hsct_day = p$hsct_day,
  age_years = p$age_years,
  bm_blasts_pct = p$bm_blasts_pct
)

# --- a small hand-made cohort: tied event times (also at an HSCT day), HSCT on day 0, HSCT on
# the last day of follow-up (changes nothing), HSCT days missing ------------------------------
small <- data.frame(
  patient_id = sprintf("P%02d", 1:16),
  time = c(30, 60, 60, 90, 120, 120, 150, 200, 200, 240, 300, 300, 365, 400, 420, 500),
  event = c(1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0),
  hsct_day = c(NA, 40, NA, 60, 0, 100, 90, NA, 120, 240, 60, 150, NA, 200, 90, 120),
  age_years = c(12, 34, 25, 8, 19, 41, 30, 22, 15, 27, 36, 10, 18, 45, 29, 21)
)

out <- list(
  provenance = list(source = R.version.string,
                    packages = list(survival = pkg("survival"), jsonlite = pkg("jsonlite")),
                    script = "tests/reference/r/exposure.R",
                    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z")),
  rtol = list(iterative = 1e-6, closed_form = 1e-10),
  cases = list(
    exposure_case("demo_os", "synthetic demo, OS, HSCT after CAR-T; adjusted for age and blasts",
                  demo, covariates = c("age_years", "bm_blasts_pct"), times = c(100, 365, 730)),
    exposure_case("small_ties", "16 patients: ties, HSCT on day 0 and on the last day",
                  small, covariates = "age_years", times = c(50, 100, 250))
  )
)
write_json(out, "tests/reference/cases/exposure.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null", dataframe = "columns")
cat("wrote tests/reference/cases/exposure.json\n")
