# Reference values for cartcohort.analyse.competing
# (cumulative_incidence, CumulativeIncidenceResult.at, fine_gray).
#
# Run from the repository root:
#   Rscript tests/reference/r/competing.R
# It writes tests/reference/cases/competing.json (input data, expected values,
# tolerances, provenance). Never edit that JSON by hand; rerun this script.
#
# Vectors are wrapped in I() so that length-1 vectors stay JSON arrays under
# auto_unbox = TRUE.
#
# Oracles (cmprsk 2.2-11)
# - cuminc(ftime, fstatus, group, strata, rho): the Aalen-Johansen CIF and its
#   variance ($est, $var) at every distinct event time of the cause (read with
#   timepoints() at those times, i.e. the value after the jump), and Gray's test
#   ($Tests: stat, pv, df).
# - timepoints(fit, times) on a grid that includes event times, times between
#   events, time 0 and times after the last follow-up (NA there).
# - crr(ftime, fstatus, cov1, failcode, cencode = 0, gtol = 1e-10, maxiter = 100):
#   coefficients, sqrt(diag(var)) (robust sandwich SE), var, inf, loglik,
#   loglik.null, converged. gtol = 1e-10, not 1e-12: crr sums the score in the
#   original covariate scale and its rounding noise (~5e-8 for mgus2's age) makes
#   1e-12 unattainable; fits at gtol 1e-10 and 1e-11 agree to ~1e-11 relative.
#   Covariates use treatment coding (first level of factor() is the reference)
#   and terms are named like cartcohort's design_matrix: "var[level]".

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "cases", "competing.json")
if (!dir.exists(dirname(out_path))) stop("Run this script from the repository root.")

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

cuminc_case <- function(d, by = NULL, strata = NULL, rho = 0, grid = NULL) {
  group <- if (is.null(by)) rep("all", nrow(d)) else d[[by]]
  args <- list(ftime = d$time, fstatus = d$status, group = group, rho = rho, cencode = 0)
  if (!is.null(strata)) args$strata <- d[[strata]]
  fit <- do.call(cuminc, args)
  levels_g <- levels(factor(group))
  causes <- sort(unique(d$status[d$status != 0]))
  curves <- list()
  for (g in levels_g) {
    for (k in causes) {
      nm <- paste(g, k)
      ev <- sort(unique(d$time[group == g & d$status == k]))
      est <- numeric(0)
      var <- numeric(0)
      if (length(ev) > 0) {
        tp <- timepoints(fit[nm], ev)
        est <- unname(tp$est[1, ])
        var <- unname(tp$var[1, ])
      }
      curves[[length(curves) + 1]] <- list(
        group = g, cause = k, event_times = I(ev), estimate = I(est), variance = I(var),
        raw_time = I(fit[[nm]]$time), raw_est = I(fit[[nm]]$est), raw_var = I(fit[[nm]]$var)
      )
    }
  }
  if (is.null(grid)) {
    grid <- sort(unique(c(0, quantile(d$time, c(0.1, 0.25, 0.5, 0.75, 0.9), type = 1),
                          (min(d$time) + max(d$time)) / 2, max(d$time), max(d$time) + 1)))
  }
  tp <- timepoints(fit, grid)
  tp_curves <- list()
  for (g in levels_g) {
    for (k in causes) {
      nm <- paste(g, k)
      tp_curves[[length(tp_curves) + 1]] <- list(
        group = g, cause = k,
        estimate = I(unname(tp$est[nm, ])), variance = I(unname(tp$var[nm, ]))
      )
    }
  }
  tests <- list()
  if (!is.null(fit$Tests)) {
    tt <- fit$Tests
    tests <- lapply(seq_len(nrow(tt)), function(i) list(
      cause = as.numeric(rownames(tt)[i]), statistic = tt[i, "stat"],
      p_value = tt[i, "pv"], df = tt[i, "df"]
    ))
  }
  list(by = if (is.null(by)) NA else by, strata = if (is.null(strata)) NA else strata,
       rho = rho, curves = curves,
       timepoints = list(times = I(unname(grid)), curves = tp_curves), tests = tests)
}

design <- function(d, covariates) {
  cols <- list()
  terms <- character(0)
  for (v in covariates) {
    x <- d[[v]]
    if (is.character(x) || is.factor(x)) {
      lv <- levels(factor(x))
      for (l in lv[-1]) {
        cols[[length(cols) + 1]] <- as.numeric(x == l)
        terms <- c(terms, paste0(v, "[", l, "]"))
      }
    } else {
      cols[[length(cols) + 1]] <- as.numeric(x)
      terms <- c(terms, v)
    }
  }
  m <- do.call(cbind, cols)
  colnames(m) <- terms
  m
}

crr_case <- function(d, covariates, cause) {
  x <- design(d, covariates)
  fit <- crr(d$time, d$status, x, failcode = cause, cencode = 0, gtol = 1e-10, maxiter = 100)
  if (!fit$converged) stop("crr did not converge for cause ", cause)
  list(
    cause = cause, covariates = I(covariates), terms = I(colnames(x)),
    coef = I(unname(fit$coef)), se = I(unname(sqrt(diag(fit$var)))),
    var = unname(fit$var), inf = unname(fit$inf),
    loglik = fit$loglik, loglik_null = fit$loglik.null,
    converged = fit$converged, n = fit$n,
    n_events = sum(d$status == cause),
    n_competing = sum(d$status != cause & d$status != 0)
  )
}

# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------

# Simulated cohort with heavy ties: integer times 0..40, causes 1/2, censoring.
set.seed(20240611)
n <- 400
grp2 <- sample(c("A", "B"), n, replace = TRUE)
grp3 <- sample(c("x", "y", "z"), n, replace = TRUE)
score <- round(rnorm(n), 2)
lp <- 0.5 * (grp2 == "B") + 0.4 * (grp3 == "y") - 0.3 * (grp3 == "z") + 0.3 * score
t1 <- rexp(n, 0.05 * exp(lp))
t2 <- rexp(n, 0.03 * exp(-0.2 * score))
tc <- runif(n, 5, 60)
tt <- pmin(t1, t2, tc)
sim <- data.frame(
  time = floor(tt), # integer times: many ties, including at 0
  status = ifelse(tt == tc, 0, ifelse(t1 < t2, 1, 2)),
  grp2 = grp2, grp3 = grp3, score = score, stringsAsFactors = FALSE
)

mg <- survival::mgus2
mg <- data.frame(
  time = ifelse(mg$pstat == 0, mg$futime, mg$ptime),
  status = ifelse(mg$pstat == 0, 2 * mg$death, 1),
  sex = as.character(mg$sex), age = mg$age, stringsAsFactors = FALSE
)

data(bmt, package = "timereg", envir = environment())
bm <- data.frame(time = bmt$time, status = bmt$cause, platelet = bmt$platelet,
                 age = bmt$age, tcell = bmt$tcell)

# Stress cases (small, deterministic).
all_censored_group <- data.frame(
  time   = c(1, 2, 2, 3, 4, 5, 6, 7, 1, 2, 3, 3, 5, 8, 9, 2, 4, 6, 8),
  status = c(1, 2, 1, 0, 1, 2, 0, 1, 2, 1, 1, 0, 2, 1, 0, 0, 0, 0, 0),
  grp    = c(rep("A", 8), rep("B", 7), rep("C", 4)), stringsAsFactors = FALSE
)
only_competing_group <- data.frame(
  time   = c(1, 2, 3, 3, 4, 6, 7, 9, 2, 2, 3, 5, 6, 8, 10),
  status = c(1, 1, 2, 1, 0, 1, 2, 0, 2, 2, 0, 2, 0, 2, 0),
  grp    = c(rep("A", 8), rep("B", 7)), stringsAsFactors = FALSE
)
time_zero <- data.frame(
  time   = c(0, 0, 0, 0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 0, 0, 1, 2, 2, 4, 5, 6, 9, 9),
  status = c(1, 2, 0, 1, 1, 0, 2, 1, 1, 0, 2, 1, 0, 1, 0, 2, 0, 1, 1, 2, 0, 1, 2, 1, 0),
  grp    = c(rep("A", 15), rep("B", 10)),
  z      = c(0.5, -1, 0.2, 1.1, 0.3, -0.4, 0.9, -1.2, 0.1, 0.7, -0.6, 1.4, 0.0, -0.8, 0.6,
             1.0, -0.3, 0.4, -1.1, 0.8, 0.2, -0.5, 1.3, -0.9, 0.35),
  stringsAsFactors = FALSE
)
# Group B leaves follow-up before the first event: Gray's variance is singular and
# cuminc reports a statistic of -1.
gray_singular <- data.frame(
  time   = c(1, 2, 2, 3, 5, 6, 0.5, 0.5, 0.5),
  status = c(1, 2, 1, 0, 1, 2, 0, 0, 0),
  grp    = c(rep("A", 6), rep("B", 3)), stringsAsFactors = FALSE
)
tiny <- data.frame(time = c(1, 2, 2, 3, 4), status = c(1, 2, 1, 0, 1))

# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------

cases <- list(
  list(
    name = "sim_ties",
    description = "Simulated 400 rows, integer times (heavy ties, events at 0), causes 1/2/0",
    input = sim,
    cuminc = list(
      cuminc_case(sim),
      cuminc_case(sim, by = "grp2"),
      cuminc_case(sim, by = "grp3"),
      cuminc_case(sim, by = "grp3", strata = "grp2"),
      cuminc_case(sim, by = "grp3", rho = 1)
    ),
    crr = list(
      crr_case(sim, c("grp2", "grp3", "score"), 1),
      crr_case(sim, c("grp2", "grp3", "score"), 2)
    )
  ),
  list(
    name = "mgus2",
    description = "survival::mgus2: progression to PCM (1) vs death without PCM (2)",
    input = mg,
    cuminc = list(cuminc_case(mg), cuminc_case(mg, by = "sex")),
    crr = list(crr_case(mg, c("age", "sex"), 1), crr_case(mg, c("age", "sex"), 2))
  ),
  list(
    name = "bmt",
    description = "timereg::bmt (bone marrow transplant; relapse 1 vs treatment-related death 2)",
    input = bm,
    cuminc = list(cuminc_case(bm, by = "tcell"), cuminc_case(bm, by = "platelet")),
    crr = list(crr_case(bm, c("platelet", "age", "tcell"), 1))
  ),
  list(
    name = "all_censored_group",
    description = "Three groups; group C has only censored rows",
    input = all_censored_group,
    cuminc = list(cuminc_case(all_censored_group, by = "grp")),
    crr = list()
  ),
  list(
    name = "only_competing_group",
    description = "Group B has competing events (cause 2) but no cause-1 events",
    input = only_competing_group,
    cuminc = list(cuminc_case(only_competing_group, by = "grp")),
    crr = list(crr_case(only_competing_group, c("grp"), 2))
  ),
  list(
    name = "time_zero",
    description = "Events and censoring at time 0",
    input = time_zero,
    cuminc = list(cuminc_case(time_zero), cuminc_case(time_zero, by = "grp")),
    crr = list(crr_case(time_zero, c("z", "grp"), 1), crr_case(time_zero, c("z"), 2))
  ),
  list(
    name = "gray_singular",
    description = "Group B is censored before the first event: singular Gray variance",
    input = gray_singular,
    cuminc = list(cuminc_case(gray_singular, by = "grp")),
    crr = list()
  ),
  list(
    name = "tiny_single_group",
    description = "Five rows, one group (no Gray test)",
    input = tiny,
    cuminc = list(cuminc_case(tiny, grid = c(0, 0.5, 1, 2, 2.5, 3, 4, 4.5))),
    crr = list()
  )
)

out <- list(
  provenance = list(
    source = paste0(R.version.string, " / cmprsk ", packageVersion("cmprsk"),
                    " / survival ", packageVersion("survival"),
                    " / timereg ", packageVersion("timereg")),
    script = "tests/reference/r/competing.R",
    generated = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
    r_version = R.version.string,
    packages = list(cmprsk = as.character(packageVersion("cmprsk")),
                    survival = as.character(packageVersion("survival")),
                    timereg = as.character(packageVersion("timereg")),
                    jsonlite = as.character(packageVersion("jsonlite")))
  ),
  tolerance = list(
    cuminc = 1e-10, timepoints = 1e-10, gray_test = 1e-10,
    crr_coef = 1e-6, crr_se = 1e-6, crr_loglik = 1e-8
  ),
  cases = cases
)

write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null", dataframe = "columns")
cat("wrote", out_path, "\n")
