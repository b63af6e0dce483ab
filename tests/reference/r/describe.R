# Reference values for the `describe` analysis (cartcohort.plan.analyses.describe) and the
# exact binomial interval (cartcohort.analyse.contingency.proportion_ci).
# Run from the repository root:  Rscript tests/reference/r/describe.R
# Writes tests/reference/cases/describe.json (inputs, expected values, tolerance, provenance).
library(jsonlite)
library(survival)

# ---- exact (Clopper-Pearson) intervals: binom.test ---------------------------------------
binom_cases <- list(
  list(x = 12, n = 14, conf = 0.95),   # seed 002: MRD-negative conversion
  list(x = 10, n = 14, conf = 0.95),   # seed 002: grade-1 CRS
  list(x = 65, n = 78, conf = 0.95),   # seed 000: overall CR
  list(x = 29, n = 78, conf = 0.95),   # seed 000: MRD-negative CR
  list(x = 16, n = 24, conf = 0.95),   # seed 003: CR
  list(x = 86, n = 93, conf = 0.95),   # seed 004: CR at day 30
  list(x = 0, n = 5, conf = 0.95),
  list(x = 5, n = 5, conf = 0.95),
  list(x = 1, n = 1, conf = 0.95),
  list(x = 0, n = 1, conf = 0.95),
  list(x = 7, n = 20, conf = 0.90),
  list(x = 3, n = 1000, conf = 0.99)
)
binom <- lapply(binom_cases, function(k) {
  b <- binom.test(k$x, k$n, conf.level = k$conf)
  c(k, list(estimate = unname(b$estimate), lower = b$conf.int[1], upper = b$conf.int[2]))
})

# ---- a single-arm cohort: 20 patients, OS days and death, dose, CRS onset ----------------
pts <- data.frame(
  id = sprintf("P%02d", 1:20),
  time = c(35, 90, 90, 150, 200, 238, 238, 300, 365, 400, 410, 500, 597, 640, 700, 730,
           740, 800, 900, 945),
  death = c(1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0),
  dose = c(2.2, 2.37, 2.6, 3.1, 5.57, 5.84, 6.57, 6.98, 7.13, 8.77, 8.77, 9.22, 9.25, 10.4,
           4.1, 3.3, 5.0, 7.7, 1.9, 6.0) * 1e6,
  crs_grade = c(0, 1, 1, 2, 3, 1, 0, 1, 2, 4, 1, 0, 1, 1, 3, 2, 0, 1, 1, 2),
  crs_onset_day = c(NA, 1, 3, 5, 2, 7, NA, 4, 5, 1, 14, NA, 6, 5, 2, 3, NA, 8, 5, 4)
)
at <- c(182.625, 365.25, 730.5)  # 6, 12 and 24 months of 365.25 / 12 days
km_out <- list()
for (ct in c("log-log", "log", "plain")) {
  fit <- survfit(Surv(time, death) ~ 1, data = pts, conf.type = ct)
  s <- summary(fit, times = at)
  tab <- summary(fit)$table
  km_out[[ct]] <- list(
    times = s$time, surv = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper,
    median = unname(tab["median"]), median_lower = unname(tab["0.95LCL"]),
    median_upper = unname(tab["0.95UCL"])
  )
}
rev_fit <- survfit(Surv(time, 1 - death) ~ 1, data = pts, conf.type = "log-log")
rev_tab <- summary(rev_fit)$table
onset <- pts$crs_onset_day[pts$crs_grade >= 1]
q <- quantile(pts$dose, c(0.25, 0.5, 0.75))  # type 7, R's default

out <- list(
  provenance = list(
    script = "tests/reference/r/describe.R",
    r_version = R.version.string,
    survival = as.character(packageVersion("survival"))
  ),
  rtol = 1e-10,
  binom = binom,
  cohort = list(
    patient_id = pts$id, time = pts$time, death = pts$death, dose = pts$dose,
    crs_grade = pts$crs_grade, crs_onset_day = pts$crs_onset_day
  ),
  at_days = at,
  km = km_out,
  followup = list(
    reverse_km = list(median = unname(rev_tab["median"]), lower = unname(rev_tab["0.95LCL"]),
                      upper = unname(rev_tab["0.95UCL"])),
    observed_all = list(median = median(pts$time), min = min(pts$time), max = max(pts$time)),
    observed_censored = list(median = median(pts$time[pts$death == 0]),
                             min = min(pts$time[pts$death == 0]),
                             max = max(pts$time[pts$death == 0]))
  ),
  dose = list(median = median(pts$dose), min = min(pts$dose), max = max(pts$dose),
              q1 = unname(q[1]), q3 = unname(q[3])),
  crs = list(
    any = list(x = sum(pts$crs_grade >= 1), n = nrow(pts),
               lower = binom.test(sum(pts$crs_grade >= 1), nrow(pts))$conf.int[1],
               upper = binom.test(sum(pts$crs_grade >= 1), nrow(pts))$conf.int[2]),
    severe = list(x = sum(pts$crs_grade >= 3), n = nrow(pts),
                  lower = binom.test(sum(pts$crs_grade >= 3), nrow(pts))$conf.int[1],
                  upper = binom.test(sum(pts$crs_grade >= 3), nrow(pts))$conf.int[2]),
    onset = list(median = median(onset, na.rm = TRUE), min = min(onset, na.rm = TRUE),
                 max = max(onset, na.rm = TRUE), n = sum(!is.na(onset)))
  )
)
write_json(out, "tests/reference/cases/describe.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
