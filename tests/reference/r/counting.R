# Reference values for counting-process (start, stop] survival data:
# cartcohort.analyse.counting.to_counting_process (R tmerge) and cox_ph(start=) (R coxph with
# Surv(tstart, tstop, event), its concordance and cox.zph).
#
# Run from the repository root:  Rscript tests/reference/r/counting.R
# Writes tests/reference/cases/counting.json with, for every case, the input data (so the
# Python tests need no R), the model specification, R's results and the tolerance.
# Fits use tight convergence (coxph.control(eps = 1e-12, iter.max = 100)) so that the
# comparison measures the algorithms, not R's stopping rule.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

ctrl <- suppressWarnings(coxph.control(eps = 1e-12, iter.max = 100))

cox_case <- function(id, description, df, start, time, event, covariates, factors = list(),
                     strata = NULL, ties = "efron",
                     transforms = c("km", "rank", "identity", "log"), rtol = 1e-6) {
  fdf <- df
  for (v in names(factors)) fdf[[v]] <- factor(fdf[[v]], levels = factors[[v]])
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(strata)) rhs <- paste(rhs, "+", paste0("strata(", paste(strata, collapse = ", "), ")"))
  form <- as.formula(paste0("Surv(", start, ", ", time, ", ", event, ") ~ ", rhs))
  fit <- coxph(form, data = fdf, ties = ties, control = ctrl)
  s <- summary(fit)
  ci <- s$conf.int
  zph <- list()
  for (tr in transforms) {
    z <- cox.zph(fit, transform = tr, terms = TRUE)
    zph[[tr]] <- list(term = rownames(z$table), statistic = unname(z$table[, "chisq"]),
                      df = unname(z$table[, "df"]), p_value = unname(z$table[, "p"]))
  }
  list(
    id = id, description = description,
    spec = list(start = start, time = time, event = event, covariates = covariates,
                strata = if (is.null(strata)) NULL else strata, ties = ties),
    factors = factors,
    input = df,
    expected = list(
      coef = unname(coef(fit)),
      se = unname(sqrt(diag(fit$var))),
      hr = unname(exp(coef(fit))),
      lower = unname(ci[, "lower .95"]),
      upper = unname(ci[, "upper .95"]),
      z = unname(s$coefficients[, "z"]),
      p_value = unname(s$coefficients[, "Pr(>|z|)"]),
      loglik = unname(fit$loglik),
      lr_test = unname(s$logtest),
      wald_test = c(unname(fit$wald.test), unname(s$waldtest["df"]),
                    pchisq(unname(fit$wald.test), unname(s$waldtest["df"]), lower.tail = FALSE)),
      score_test = unname(s$sctest),
      concordance_counts = unname(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y", "tied.xy")]),
      concordance = unname(fit$concordance["concordance"]),
      concordance_se = unname(fit$concordance["std"]),
      n = fit$n,
      n_events = fit$nevent,
      zph = zph
    ),
    rtol = rtol
  )
}

# --- datasets -------------------------------------------------------------------------
# Stanford heart transplant data in counting-process form (transplant is time-dependent).
heart2 <- data.frame(start = heart$start, stop = heart$stop, event = heart$event,
                     age = heart$age, year = heart$year, surgery = heart$surgery,
                     transplant = as.integer(as.character(heart$transplant)))

# lung with delayed entry: half the patients enter at a random day before their end.
set.seed(20261207)
lung2 <- data.frame(
  time = lung$time, status = as.integer(lung$status == 2), age = lung$age, sex = lung$sex,
  ph_ecog = as.character(lung$ph.ecog)
)
lung2$entry <- ifelse(runif(nrow(lung2)) < 0.5, 0, floor(runif(nrow(lung2)) * lung2$time))
lung_levels <- list(ph_ecog = c("0", "1", "2", "3"))

# Heavy ties: months, entries in months too (entries equal to death times of others).
lung_m <- lung2
lung_m$time <- ceiling(lung2$time / 30)
lung_m$entry <- floor(runif(nrow(lung_m)) * lung_m$time)

# A hand-sized sample: entries equal to other rows' death times, tied deaths.
tiny <- data.frame(
  entry = c(0, 0, 2, 1, 0, 3, 2, 0, 4, 1),
  time = c(2, 3, 3, 4, 4, 5, 6, 7, 8, 9),
  status = c(1, 1, 1, 0, 1, 1, 0, 1, 1, 0),
  x = c(0.5, 1.2, -0.3, 0.8, 2.0, -1.0, 0.1, 1.5, -0.7, 0.4)
)

# A CAR-T-like cohort: HSCT and relapse days as time-dependent indicators, split with tmerge.
n <- 90
cohort <- data.frame(
  id = sprintf("P%03d", seq_len(n)),
  time = pmax(1, round(rexp(n, 1 / 300))),
  age = round(rnorm(n, 50, 12)),
  bulky = rbinom(n, 1, 0.4)
)
cohort$status <- rbinom(n, 1, 0.6)
cohort$hsct_day <- ifelse(runif(n) < 0.4, floor(runif(n) * cohort$time), NA)
cohort$hsct_day[1:3] <- c(0, cohort$time[2], NA)  # at day 0; at the end of follow-up
cohort$relapse_day <- ifelse(runif(n) < 0.3, floor(runif(n) * cohort$time), NA)
split <- tmerge(cohort[, c("id", "age", "bulky")], cohort, id = id,
                death = event(time, status))
split <- tmerge(split, cohort, id = id, hsct = tdc(hsct_day), relapse = tdc(relapse_day))
split_out <- split[, c("id", "tstart", "tstop", "death", "hsct", "relapse", "age", "bulky")]
rownames(split_out) <- NULL
attributes(split_out)$tcount <- NULL
attributes(split_out)$tm.retain <- NULL
attributes(split_out)$call <- NULL
class(split_out) <- "data.frame"

cases <- list(
  cox_case("heart-efron", "Stanford heart: age + year + surgery + transplant (time-dependent), Efron",
           heart2, "start", "stop", "event", c("age", "year", "surgery", "transplant")),
  cox_case("heart-breslow", "Stanford heart: age + year + surgery + transplant, Breslow",
           heart2, "start", "stop", "event", c("age", "year", "surgery", "transplant"),
           ties = "breslow"),
  cox_case("heart-strata-surgery", "Stanford heart: age + transplant + strata(surgery), Efron",
           heart2, "start", "stop", "event", c("age", "transplant"), strata = "surgery"),
  cox_case("lung-entry", "lung with delayed entry: age + sex + factor(ph.ecog), Efron",
           lung2, "entry", "time", "status", c("age", "sex", "ph_ecog"), lung_levels),
  cox_case("lung-months-entry-strata", "lung in months, delayed entry, heavy ties, strata(sex), Efron",
           lung_m, "entry", "time", "status", c("age", "ph_ecog"), lung_levels, strata = "sex",
           transforms = c("km", "rank", "identity")),
  cox_case("lung-months-entry-strata-breslow", "lung in months, delayed entry, strata(sex), Breslow",
           lung_m, "entry", "time", "status", c("age", "ph_ecog"), lung_levels, strata = "sex",
           ties = "breslow", transforms = c("km", "rank", "identity")),
  cox_case("tiny-entry", "10 rows, entries at other rows' death times, tied deaths, Efron",
           tiny, "entry", "time", "status", c("x")),
  cox_case("cohort-tmerge", "90 patients split by tmerge at HSCT and relapse days, Efron",
           split_out, "tstart", "tstop", "death", c("age", "bulky", "hsct", "relapse"))
)

# Time-dependent binary exposure: Mantel-Byar test and Simon-Makuch curves.
# R has no Mantel-Byar function and survdiff rejects (start, stop] data; the oracle is the
# score test of coxph(Surv(tstart, tstop, event) ~ exposed, ties = "exact") (the
# Mantel-Haenszel log-rank sum over the current-exposure risk sets; equal to survdiff on
# right-censored data). Simon-Makuch = survfit(Surv(tstart, tstop, event) ~ exposed).
# The heart data are rebuilt as one row per patient with the transplant day (Mantel & Byar
# 1974 analysed these data); splitting them again must give R's heart rows.
heart_pat <- do.call(rbind, lapply(split(heart, heart$id), function(d) {
  tx <- as.integer(as.character(d$transplant)) == 1
  data.frame(id = d$id[1], time = max(d$stop), event = d$event[nrow(d)],
             tx_day = if (any(tx)) min(d$start[tx]) else NA_real_)
}))
rownames(heart_pat) <- NULL
# Split at the HSCT day only (the split above is also at relapse days).
cohort_split <- tmerge(cohort[, c("id", "time", "status", "hsct_day")], cohort, id = id,
                       death = event(time, status))
cohort_split <- tmerge(cohort_split, cohort, id = id, hsct = tdc(hsct_day))
cohort_split <- data.frame(tstart = cohort_split$tstart, tstop = cohort_split$tstop,
                           death = cohort_split$death, hsct = cohort_split$hsct)
td_case <- function(name, patients, split_df, exposure_day, exposed) {
  form <- as.formula(paste0("Surv(tstart, tstop, event) ~ ", exposed))
  names(split_df)[names(split_df) %in% c("start", "death")] <- c("tstart", "event")[
    match(names(split_df)[names(split_df) %in% c("start", "death")], c("start", "death"))]
  names(split_df)[names(split_df) == "stop"] <- "tstop"
  exact <- coxph(form, data = split_df, ties = "exact")
  efron <- coxph(form, data = split_df, ties = "efron")
  sm <- summary(survfit(form, data = split_df, conf.type = "log-log"), censored = TRUE)
  list(
    id = name, input = patients, exposure_day = exposure_day,
    mantel_byar = list(statistic = unname(exact$score), df = 1L,
                       p_value = pchisq(unname(exact$score), 1, lower.tail = FALSE),
                       n_events = exact$nevent),
    efron_score = unname(efron$score),
    simon_makuch = list(group = sub(paste0("^", exposed, "="), "", as.character(sm$strata)),
                        time = sm$time, n_risk = sm$n.risk, n_event = sm$n.event,
                        n_censor = sm$n.censor, estimate = sm$surv, std_err = sm$std.err,
                        lower = sm$lower, upper = sm$upper)
  )
}
time_dependent <- list(
  td_case("heart-transplant", heart_pat, heart2, "tx_day", "transplant"),
  td_case("cohort-hsct", cohort[, c("id", "time", "status", "hsct_day")], cohort_split,
          "hsct_day", "hsct")
)

pkg <- function(p) as.character(packageVersion(p))
out <- list(
  provenance = list(
    source = R.version.string,
    packages = list(survival = pkg("survival"), jsonlite = pkg("jsonlite")),
    script = "tests/reference/r/counting.R",
    control = "coxph.control(eps = 1e-12, iter.max = 100)",
    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z")
  ),
  split = list(
    description = "tmerge(base, cohort, id, death = event(time, status)); then hsct = tdc(hsct_day), relapse = tdc(relapse_day)",
    input = cohort,
    expected = split_out
  ),
  cases = cases,
  time_dependent = time_dependent
)
write_json(out, "tests/reference/cases/counting.json", digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null", dataframe = "columns")
cat("wrote tests/reference/cases/counting.json with", length(cases), "cases\n")
