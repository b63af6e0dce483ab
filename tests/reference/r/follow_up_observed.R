# Reference values for the plan option definitions.followup: observed_median_range
# (cartcohort.plan.analyses.survival): the median and range of the observed follow-up,
# i.e. the days from infusion to death or last follow-up of every patient, dead or alive
# (a seed paper's "median follow-up 647 days (range 172-945 days)").
#
# stats::median (the mean of the two middle values for an even n) and base::range.
# The 14 times are a reconstruction consistent with seed 002's Table 2 and text (one
# death at day 172); they are written to the JSON as input.
#
# Regenerate with:  Rscript tests/reference/r/follow_up_observed.R   (from the repository root)

suppressPackageStartupMessages(library(jsonlite))
options(digits = 16)

times <- c(172, 238, 400, 455, 520, 600, 640, 654, 700, 760, 820, 880, 910, 945)
death <- c(TRUE, TRUE, FALSE, TRUE, rep(FALSE, 10))

out <- list(
  times = times,
  death = death,
  median = median(times),
  range = range(times),
  r_version = R.version.string
)
write_json(out, "tests/reference/cases/follow_up_observed.json",
           auto_unbox = TRUE, digits = NA, pretty = TRUE)
