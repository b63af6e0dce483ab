# Reference values for delayed entry (left truncation) in
# cartcohort.analyse.competing.cumulative_incidence(start=).
#
# Run from the repository root:  Rscript tests/reference/r/cif_entry.R
# Writes tests/reference/cases/cif_entry.json: the input data (so the Python tests need no R),
# the expected values, the tolerance and the provenance. Never edit the JSON by hand.
#
# Oracle: the multi-state Aalen-Johansen estimate of survival 3.5-3,
#   survfit(Surv(entry, time, factor(status)) ~ 1, id = id)   (one fit per group)
# at every distinct event time (any cause) of the group: n.risk, n.event of each cause,
# pstate (the CIF of each cause) and std.err (the infinitesimal-jackknife standard error;
# the test compares its square with `variance`), plus summary(fit, times =) at a grid
# (the step function between and after event times, within follow-up).
# cmprsk::cuminc has no entry times, so Gray's test has no reference here (cartcohort
# does not compute it with delayed entry).
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "cases", "cif_entry.json")
if (!dir.exists(dirname(out_path))) stop("Run this script from the repository root.")

set.seed(20261207)
m <- mgus2[!is.na(mgus2$mspike), ]
m <- m[sample(nrow(m), 300), ]
etime <- ifelse(m$pstat == 1, m$ptime, m$futime)
status <- ifelse(m$pstat == 1, 1, 2 * m$death)
mg <- data.frame(id = seq_len(nrow(m)), time = etime, status = status, group = m$sex)
mg$entry <- ifelse(runif(nrow(mg)) < 0.5, 0, floor(runif(nrow(mg)) * mg$time))
mg$entry[mg$entry >= mg$time] <- 0

# Heavy ties, three causes, entries on event days of others, a late-entry group.
n <- 90
ties <- data.frame(id = seq_len(n), time = sample(2:9, n, replace = TRUE),
                   status = sample(0:3, n, replace = TRUE, prob = c(0.3, 0.3, 0.25, 0.15)),
                   group = sample(c("a", "b"), n, replace = TRUE))
ties$entry <- sapply(ties$time, function(t) sample(0:(t - 1), 1))

# No delayed entry at all: the estimate is cuminc's; the variance is still survfit's.
zero <- mg[1:120, ]
zero$entry <- 0

datasets <- list(
  mgus2_sex = list(data = mg, grid = c(12, 60, 120, 240, 400),
                   source = "survival::mgus2 (300 seeded rows): 1 = progression, 2 = death; entry half 0, half uniform before time"),
  ties = list(data = ties, grid = c(1, 2, 4.5, 7, 9),
              source = "90 simulated rows, times 2..9, causes 1..3, entries 0..time-1 (seeded)"),
  no_entry = list(data = zero, grid = c(12, 60, 120),
                  source = "first 120 rows of mgus2_sex with entry 0")
)

case <- function(name) {
  ds <- datasets[[name]]
  d <- ds$data
  causes <- sort(unique(d$status[d$status > 0]))
  groups <- sort(unique(d$group))
  curves <- list()
  at <- list()
  for (g in groups) {
    dg <- d[d$group == g, ]
    fit <- survfit(Surv(entry, time, factor(status, levels = c(0, causes))) ~ 1,
                   data = dg, id = id)
    stopifnot(identical(fit$states, c("(s0)", as.character(causes))))
    ev <- rowSums(fit$n.event) > 0
    for (j in seq_along(causes)) {
      curves[[length(curves) + 1]] <- list(
        group = g, cause = causes[j], time = I(fit$time[ev]),
        n_risk = I(fit$n.risk[ev, 1]), n_event = I(fit$n.event[ev, j + 1]),
        estimate = I(fit$pstate[ev, j + 1]), std_err = I(fit$std.err[ev, j + 1])
      )
    }
    grid <- ds$grid[ds$grid <= max(dg$time)]
    s <- summary(fit, times = grid, extend = FALSE)
    for (j in seq_along(causes)) {
      at[[length(at) + 1]] <- list(group = g, cause = causes[j], time = I(s$time),
                                   estimate = I(s$pstate[, j + 1]),
                                   std_err = I(s$std.err[, j + 1]))
    }
  }
  list(name = name, source = ds$source, grid = I(ds$grid), causes = I(causes),
       groups = I(groups), curves = curves, at = at)
}

out <- list(
  provenance = list(
    source = R.version.string,
    packages = list(survival = as.character(packageVersion("survival"))),
    script = "tests/reference/r/cif_entry.R"
  ),
  rtol = list(closed_form = 1e-10),
  datasets = lapply(datasets, function(ds) ds$data),
  cases = lapply(names(datasets), case)
)
write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = FALSE)
cat("wrote", out_path, "\n")
