# Reference values for cartcohort.analyse.contingency.fisher_exact on larger r x c tables
# (the sizes registries reach: 2 x k and 3 x k, n = 1,000-10,000).
# Run from the repository root:  Rscript tests/reference/r/fisher_rxc.R
# Writes tests/reference/cases/fisher_rxc.json (tables, R's p-values, R's time, tolerance,
# provenance). Never edit that JSON by hand; rerun this script.
#
# Oracle: stats::fisher.test(x, workspace = 2e8), the two-sided p-value of R's FEXACT
# network algorithm. FEXACT accumulates the p-value with its own tolerances, so the
# comparison is at 1e-6 relative (the tolerance for iterative results), not 1e-10.
library(jsonlite)
options(digits = 16)
set.seed(20261207)

cases <- list()
add <- function(id, tab) {
  elapsed <- system.time(p <- fisher.test(tab, workspace = 2e8)$p.value)[["elapsed"]]
  cases[[length(cases) + 1]] <<- list(
    id = id, table = lapply(seq_len(nrow(tab)), function(i) as.numeric(tab[i, ])),
    n = sum(tab), p_value = p, r_seconds = elapsed)
  cat(id, format(p, digits = 17), elapsed, "\n")
}
by_rows <- function(v, nrow) matrix(v, nrow = nrow, byrow = TRUE)
# a 2 x k table with n patients: response in k groups with rates `rate`
draw_2xk <- function(n, rate, size = rep(1, length(rate))) {
  cols <- as.vector(rmultinom(1, n, size))
  yes <- rbinom(length(cols), cols, rate)
  rbind(yes, cols - yes)
}

# the tables of the issue (2 x 5, n = 10,000: an unbalanced one and a balanced one)
add("2x5-n10000-unbalanced", by_rows(c(900, 800, 580, 465, 330, 2100, 1700, 1420, 1035, 670), 2))
add("2x5-n10000-balanced", by_rows(rep(1000, 10), 2))
add("2x5-n1000", by_rows(c(95, 80, 58, 46, 33, 205, 170, 142, 104, 67), 2))
# 2 x k tables at registry sizes
add("2x3-n1000", draw_2xk(1000, c(0.30, 0.36, 0.40)))
add("2x4-n1000", draw_2xk(1000, c(0.5, 0.45, 0.55, 0.5), c(4, 3, 2, 1)))
add("2x6-n1000", draw_2xk(1000, c(0.2, 0.25, 0.2, 0.3, 0.25, 0.22)))
add("2x3-n3000", draw_2xk(3000, c(0.62, 0.6, 0.65)))
add("2x4-n3000-strong", draw_2xk(3000, c(0.2, 0.3, 0.4, 0.5)))
add("2x5-n3000-sparse-column", draw_2xk(3000, c(0.3, 0.3, 0.35, 0.3, 0.5), c(30, 30, 20, 20, 1)))
add("2x3-n10000", draw_2xk(10000, c(0.70, 0.71, 0.69)))
add("4x2-n2000", t(draw_2xk(2000, c(0.4, 0.42, 0.45, 0.4))))
# 3 x k and r x c tables for the network algorithm
add("3x3-n90", by_rows(c(10, 12, 8, 9, 7, 14, 11, 10, 9), 3))
add("3x4-n200", matrix(rmultinom(1, 200, rep(1, 12)), 3, 4))
add("3x5-n150", matrix(rmultinom(1, 150, c(1, 2, 1, 2, 1, 1, 1, 2, 3, 1, 2, 1, 1, 1, 1)), 3, 5))
add("4x4-n80", matrix(rmultinom(1, 80, rep(1, 16)), 4, 4))

# 3 x k tables at registry sizes (the 3-row column algorithm): response (3 grades) by
# k groups, balanced or not, sparse, p near 1 and p tiny. R fails beyond these sizes
# (3 x 3 at n = 10,000; 3 x 5 and 3 x 6 at n = 1,000: FEXACT errors 501 and 7).
draw_3xk <- function(n, probs, size = rep(1, ncol(probs))) {
  cols <- as.vector(rmultinom(1, n, size))
  sapply(seq_along(cols), function(j) rmultinom(1, cols[j], probs[, j]))
}
flat <- function(k) matrix(1 / 3, 3, k)
add("3x2-n1000", draw_3xk(1000, flat(2)))
add("3x3-n50-sparse", by_rows(c(0, 3, 12, 1, 5, 9, 4, 10, 6), 3))
add("3x3-n300", draw_3xk(300, flat(3)))
add("3x3-n1000", draw_3xk(1000, flat(3)))
add("3x3-n1000-unbalanced", draw_3xk(1000, matrix(c(.6, .3, .1, .55, .3, .15, .5, .35, .15), 3),
                                     c(5, 3, 2)))
add("3x3-n1000-p-tiny", draw_3xk(1000, matrix(c(.5, .3, .2, .4, .35, .25, .3, .4, .3), 3)))
add("3x3-n3000-p-near-1", by_rows(c(334, 333, 333, 333, 334, 333, 333, 333, 334), 3))
add("3x3-n3000", draw_3xk(3000, flat(3)))
add("3x4-n50-zero-cells", by_rows(c(0, 5, 0, 7, 6, 0, 8, 3, 2, 9, 0, 10), 3))
add("3x4-n300", draw_3xk(300, flat(4)))
add("3x4-n1000", draw_3xk(1000, flat(4), c(4, 3, 2, 1)))
add("3x5-n50", draw_3xk(50, flat(5)))
add("3x6-n50", draw_3xk(50, flat(6)))

out <- list(
  provenance = list(source = R.version.string, script = "tests/reference/r/fisher_rxc.R",
                    generated = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
                    seed = 20261207, call = "fisher.test(x, workspace = 2e8)"),
  rtol = 1e-6,
  fisher = cases)
write_json(out, "tests/reference/cases/fisher_rxc.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", null = "null")
cat("wrote tests/reference/cases/fisher_rxc.json\n")
