# Reference values for cartcohort.analyse.contingency and cartcohort.analyse.compare.
# Run from the repository root:  Rscript tests/reference/r/tests_basic.R
# Writes tests/reference/cases/tests_basic.json (inputs, expected values, tolerance, provenance).
library(jsonlite)
options(digits = 16)
set.seed(20240611)

mat <- function(rows) do.call(rbind, rows)
as_rows <- function(m) lapply(seq_len(nrow(m)), function(i) as.numeric(m[i, ]))

# ---- exact roots for the 2x2 conditional odds ratio (R's fisher.test uses uniroot with its
# default tol = .Machine$double.eps^0.25, which is ~1e-4 absolute on the OR or on 1/OR;
# here the same equations are solved on the log scale to near machine precision) ----
nc_hyper <- function(tab) {
  m <- sum(tab[, 1]); n <- sum(tab[, 2]); k <- sum(tab[1, ]); x <- tab[1, 1]
  lo <- max(0, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dn <- function(lpsi) { d <- logdc + lpsi * support; d <- exp(d - max(d)); d / sum(d) }
  list(x = x, lo = lo, hi = hi, support = support, dn = dn)
}
solve_log <- function(f) uniroot(f, c(-60, 60), tol = 1e-15, maxiter = 5000)$root
exact_or <- function(tab, conf.level = 0.95, alternative = "two.sided") {
  h <- nc_hyper(tab)
  est <- if (h$x == h$lo) 0 else if (h$x == h$hi) Inf else
    exp(solve_log(function(l) sum(h$support * h$dn(l)) - h$x))
  upper <- function(a) if (h$x == h$hi) Inf else
    exp(solve_log(function(l) sum(h$dn(l)[h$support <= h$x]) - a))
  lower <- function(a) if (h$x == h$lo) 0 else
    exp(solve_log(function(l) sum(h$dn(l)[h$support >= h$x]) - a))
  ci <- switch(alternative,
    less = c(0, upper(1 - conf.level)),
    greater = c(lower(1 - conf.level), Inf),
    two.sided = c(lower((1 - conf.level) / 2), upper((1 - conf.level) / 2)))
  list(estimate = est, lower = ci[1], upper = ci[2])
}
inf_to_str <- function(v) if (is.infinite(v)) (if (v > 0) "Inf" else "-Inf") else v

fisher_cases <- list()
add_fisher <- function(id, tab, alternative = "two.sided") {
  ft <- fisher.test(tab, alternative = alternative, workspace = 2e8)
  case <- list(id = id, table = as_rows(tab), alternative = sub("two.sided", "two-sided", alternative),
               p_value = ft$p.value)
  if (all(dim(tab) == 2)) {
    ex <- exact_or(tab, alternative = alternative)
    case$r_estimate <- inf_to_str(unname(ft$estimate))
    case$r_lower <- inf_to_str(ft$conf.int[1]); case$r_upper <- inf_to_str(ft$conf.int[2])
    case$exact_estimate <- inf_to_str(ex$estimate)
    case$exact_lower <- inf_to_str(ex$lower); case$exact_upper <- inf_to_str(ex$upper)
  }
  fisher_cases[[length(fisher_cases) + 1]] <<- case
}
t22 <- mat(list(c(8, 2), c(1, 5)))
for (alt in c("two.sided", "less", "greater")) add_fisher(paste0("2x2-8251-", alt), t22, alt)
add_fisher("2x2-moderate", mat(list(c(12, 5), c(7, 9))))
add_fisher("2x2-zero-cell", mat(list(c(5, 0), c(2, 6))))
add_fisher("2x3-classic", mat(list(c(3, 1, 4), c(1, 5, 2))))
add_fisher("3x4-n150", matrix(rmultinom(1, 150, rep(1, 12)), 3, 4))
add_fisher("3x4-n60", mat(list(c(8, 3, 2, 5), c(2, 9, 4, 3), c(6, 5, 10, 3))))
add_fisher("2x5-n100", mat(list(c(12, 8, 15, 4, 9), c(6, 14, 10, 12, 10))))
add_fisher("3x3-zero-row", mat(list(c(3, 1, 4), c(0, 0, 0), c(1, 5, 2))))
add_fisher("4x4-n50", matrix(rmultinom(1, 50, rep(1, 16)), 4, 4))

chisq_cases <- list()
add_chisq <- function(id, tab, correct) {
  ct <- suppressWarnings(chisq.test(tab, correct = correct))
  chisq_cases[[length(chisq_cases) + 1]] <<- list(
    id = id, table = as_rows(tab), correction = correct,
    statistic = unname(ct$statistic), df = unname(ct$parameter), p_value = ct$p.value,
    expected = as_rows(ct$expected), residuals = as_rows(ct$residuals), stdres = as_rows(ct$stdres),
    small_expected = any(ct$expected < 5))
}
add_chisq("2x2-yates", mat(list(c(12, 5), c(7, 9))), TRUE)
add_chisq("2x2-no-correction", mat(list(c(12, 5), c(7, 9))), FALSE)
add_chisq("2x2-yates-small", t22, TRUE)
add_chisq("3x4-rxc", mat(list(c(8, 3, 2, 5), c(2, 9, 4, 3), c(6, 5, 10, 3))), TRUE)
add_chisq("2x3-rxc-large", mat(list(c(40, 32, 18), c(25, 30, 45))), FALSE)

trend_cases <- list()
add_trend <- function(id, x, n, score = NULL) {
  tt <- if (is.null(score)) prop.trend.test(x, n) else prop.trend.test(x, n, score)
  trend_cases[[length(trend_cases) + 1]] <<- list(
    id = id, events = x, totals = n, scores = score,
    statistic = unname(tt$statistic), p_value = tt$p.value)
}
add_trend("2-5-9-12-of-20", c(2, 5, 9, 12), rep(20, 4))
add_trend("custom-scores", c(2, 5, 9, 12), rep(20, 4), c(0, 1, 2, 4))
add_trend("unequal-n", c(3, 7, 4, 15, 10), c(30, 25, 18, 40, 22), c(1, 2, 3, 4, 5))

# ---- group comparisons ----
frame_of <- function(value, by, id = NULL) {
  out <- list(value = as.numeric(value), by = as.character(by))
  if (!is.null(id)) out$id <- as.character(id)
  out
}
ttest_cases <- list()
add_t <- function(id, value, by, var.equal = FALSE, paired = FALSE, pid = NULL) {
  lv <- levels(factor(by))
  if (paired) {
    x <- value[by == lv[1]][order(pid[by == lv[1]])]
    y <- value[by == lv[2]][order(pid[by == lv[2]])]
    tt <- t.test(x, y, paired = TRUE)
  } else {
    tt <- t.test(value ~ factor(by), var.equal = var.equal)
  }
  est <- if (paired) unname(tt$estimate) else unname(tt$estimate[1] - tt$estimate[2])
  ttest_cases[[length(ttest_cases) + 1]] <<- list(
    id = id, data = frame_of(value, by, pid), equal_var = var.equal, paired = paired,
    statistic = unname(tt$statistic), df = unname(tt$parameter), p_value = tt$p.value,
    estimate = est, lower = tt$conf.int[1], upper = tt$conf.int[2], std_err = tt$stderr)
}
add_t("sleep-welch", sleep$extra, sleep$group)
add_t("sleep-pooled", sleep$extra, sleep$group, var.equal = TRUE)
add_t("sleep-paired", sleep$extra, sleep$group, paired = TRUE, pid = sleep$ID)
add_t("mtcars-mpg-am-welch", mtcars$mpg, mtcars$am)
add_t("mtcars-mpg-am-pooled", mtcars$mpg, mtcars$am, var.equal = TRUE)

wilcox_cases <- list()
add_w <- function(id, value, by) {
  wt <- suppressWarnings(wilcox.test(value ~ factor(by)))  # R warns when ties rule out exact
  wilcox_cases[[length(wilcox_cases) + 1]] <<- list(
    id = id, data = frame_of(value, by), statistic = unname(wt$statistic), p_value = wt$p.value,
    method = wt$method)
}
small_x <- round(rnorm(7, 10, 2), 3); small_y <- round(rnorm(9, 11, 2), 3)  # no ties
add_w("small-exact", c(small_x, small_y), rep(c("a", "b"), c(7, 9)))
add_w("mtcars-mpg-am-ties", mtcars$mpg, mtcars$am)
big_x <- round(rnorm(60, 0, 1), 6); big_y <- round(rnorm(55, 0.4, 1), 6)
add_w("large-normal-no-ties", c(big_x, big_y), rep(c("a", "b"), c(60, 55)))
ok <- airquality$Month %in% c(5, 8)
add_w("airquality-ozone-may-aug", airquality$Ozone[ok], airquality$Month[ok])

anova_cases <- list(list(
  id = "PlantGrowth", data = frame_of(PlantGrowth$weight, PlantGrowth$group),
  statistic = summary(aov(weight ~ group, PlantGrowth))[[1]][1, "F value"],
  df = summary(aov(weight ~ group, PlantGrowth))[[1]][1, "Df"],
  df_residual = summary(aov(weight ~ group, PlantGrowth))[[1]][2, "Df"],
  sum_sq = summary(aov(weight ~ group, PlantGrowth))[[1]][, "Sum Sq"],
  p_value = summary(aov(weight ~ group, PlantGrowth))[[1]][1, "Pr(>F)"],
  oneway_statistic = unname(oneway.test(weight ~ group, PlantGrowth, var.equal = TRUE)$statistic),
  oneway_p_value = oneway.test(weight ~ group, PlantGrowth, var.equal = TRUE)$p.value))

kt <- kruskal.test(Ozone ~ Month, data = airquality)
kw_pg <- kruskal.test(weight ~ group, data = PlantGrowth)
kruskal_cases <- list(
  list(id = "airquality-ozone-month", data = frame_of(airquality$Ozone, airquality$Month),
       statistic = unname(kt$statistic), df = unname(kt$parameter), p_value = kt$p.value,
       n_excluded = sum(is.na(airquality$Ozone))),
  list(id = "PlantGrowth", data = frame_of(PlantGrowth$weight, PlantGrowth$group),
       statistic = unname(kw_pg$statistic), df = unname(kw_pg$parameter), p_value = kw_pg$p.value,
       n_excluded = 0))

cor_cases <- list()
add_cor <- function(id, x, y, method) {
  ct <- suppressWarnings(cor.test(x, y, method = method))
  case <- list(id = id, data = list(x = as.numeric(x), y = as.numeric(y)), method = method,
               estimate = unname(ct$estimate), statistic = unname(ct$statistic),
               p_value = ct$p.value, n_excluded = sum(!complete.cases(x, y)))
  if (method == "pearson") {
    case$df <- unname(ct$parameter); case$lower <- ct$conf.int[1]; case$upper <- ct$conf.int[2]
  }
  cor_cases[[length(cor_cases) + 1]] <<- case
}
add_cor("mtcars-mpg-wt-pearson", mtcars$mpg, mtcars$wt, "pearson")
add_cor("mtcars-mpg-wt-spearman-ties", mtcars$mpg, mtcars$wt, "spearman")
add_cor("airquality-ozone-temp-pearson", airquality$Ozone, airquality$Temp, "pearson")
add_cor("airquality-ozone-temp-spearman-ties", airquality$Ozone, airquality$Temp, "spearman")
# random inputs rounded to 10 significant digits so the JSON (15 digits) holds them exactly
rn <- function(n) signif(rnorm(n), 10)
sx <- rn(8); sy <- signif(sx + rn(8), 10)
add_cor("small-n8-spearman-exact", sx, sy, "spearman")
add_cor("small-n9-spearman-exact-weak", rn(9), rn(9), "spearman")
mx <- rn(30); my <- signif(0.4 * mx + rn(30), 10)
add_cor("n30-spearman-edgeworth", mx, my, "spearman")
add_cor("n30-pearson", mx, my, "pearson")
lx <- rn(200); ly <- signif(0.1 * lx + rn(200), 10)
add_cor("n200-spearman-edgeworth", lx, ly, "spearman")

out <- list(
  provenance = list(source = R.version.string, script = "tests/reference/r/tests_basic.R",
                    generated = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
                    seed = 20240611),
  rtol = 1e-10,
  fisher = fisher_cases, chisq = chisq_cases, trend = trend_cases, t_test = ttest_cases,
  wilcox = wilcox_cases, anova = anova_cases, kruskal = kruskal_cases, correlation = cor_cases)
write_json(out, "tests/reference/cases/tests_basic.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", null = "null")
cat("wrote tests/reference/cases/tests_basic.json\n")
