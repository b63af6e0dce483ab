# Reference values for cartcohort.assay (standard curves for qPCR and immunoassays).
#
# * 4PL: stats::nls with the self-starting SSfpl model on NATURAL-log concentration,
#     signal = A + (B - A) / (1 + exp((xmid - log(conc)) / scal)).
#   cartcohort reports the Rodbard parameters of
#     signal = d + (a - d) / (1 + (conc / c)^b),
#   which are the same curve with a = A, d = B, c = exp(xmid), b = 1 / scal. The script writes
#   both sets; the Python test compares the converted values. Back-calculated concentrations
#   use SSfpl's own inverse, log(conc) = xmid - scal * log((B - A) / (signal - A) - 1), which is
#   algebraically different from the Rodbard inverse cartcohort uses.
# * 5PL: stats::nls with the written-out formula
#     signal = d + (a - d) / (1 + (conc / c)^b)^g,
#   written on log c and log g with its analytic gradient (stats::deriv) and started from
#   the converted 4PL fit with g = 1; back-calculation by uniroot on log(conc)
#   (not the closed form cartcohort uses).
# * Weighted fits: nls(weights = 1 / signal^2), i.e. weights from the OBSERVED signal.
#   R-squared of a weighted fit is 1 - sum(w r^2) / sum(w (y - weighted.mean(y, w))^2).
# * qPCR: lm(ct ~ log10(copies)); efficiency = 10^(-1 / slope) - 1.
# * Recovery = back-calculated / nominal * 100 per well; per level, the mean of the wells'
#   back-calculated values / nominal * 100. LLOQ / ULOQ = lowest / highest level whose level
#   recovery is within 75-125 % (ICH M10 limits at the ends of the range).
#
# All data are simulated here with fixed seeds; they are written to the JSON as input.
# nls runs with tol = 1e-10 so the reference optimum is tighter than the 1e-6 comparison.
#
# Regenerate with:  Rscript tests/reference/r/assay.R   (from the repository root)

suppressPackageStartupMessages(library(jsonlite))
options(digits = 16)

out_path <- "tests/reference/cases/assay.json"
ctrl <- nls.control(maxiter = 500, tol = 1e-8, minFactor = 1e-12)

# SSfpl's self-start runs its own nls; it gets the default control, then the fit is refined
# from its estimates with the tight control.
ssfpl_fit <- function(std) {
  first <- nls(signal ~ SSfpl(log(nominal), A, B, xmid, scal), data = std, weights = w)
  nls(signal ~ SSfpl(log(nominal), A, B, xmid, scal), data = std, weights = w,
      start = coef(first), control = ctrl)
}

fpl <- function(x, a, b, c, d) d + (a - d) / (1 + (x / c)^b)
fivepl <- function(x, a, b, c, d, g) d + (a - d) / (1 + (x / c)^b)^g
# The same formula with its analytic gradient (stats::deriv), so nls does not rely on
# forward-difference derivatives; PORT tolerances tightened to match the 1e-6 comparison.
# Written on log c and log g (c = exp(lc), g = exp(lg)) so both stay positive and the
# problem is well scaled for Gauss-Newton.
fivepl_grad <- deriv(~ d + (a - d) / (1 + exp(b * (log(nominal) - lc)))^exp(lg),
                     c("a", "b", "lc", "d", "lg"),
                     function(nominal, a, b, lc, d, lg) NULL)
# The unweighted luminex case is ill-conditioned (g ~ 0.1): Gauss-Newton's relative-offset
# criterion stalls at 1.3e-7 (rounding), so the 5PL fits use tol = 1e-6.
ctrl_5pl <- nls.control(maxiter = 500, tol = 1e-6, minFactor = 1e-12)

level_table <- function(nominal, back) {
  levels <- sort(unique(nominal))
  rec <- vapply(levels, function(l) mean(back[nominal == l]) / l * 100, 0)
  ok <- !is.na(rec) & rec >= 75 & rec <= 125
  list(
    nominal = levels,
    recovery = rec,
    lloq = if (any(ok)) min(levels[ok]) else NA,
    uloq = if (any(ok)) max(levels[ok]) else NA
  )
}

r2 <- function(y, fitted, w) {
  1 - sum(w * (y - fitted)^2) / sum(w * (y - weighted.mean(y, w))^2)
}

simulate_standards <- function(seed, top, fold, n_levels, reps, truth, cv, model = fpl) {
  set.seed(seed)
  conc <- rep(top / fold^(0:(n_levels - 1)), each = reps)
  mu <- do.call(model, c(list(conc), truth))
  signal <- mu * exp(rnorm(length(mu), 0, cv))
  data.frame(nominal = conc, signal = signal)
}

# ---- 4PL --------------------------------------------------------------------------------

fourpl_case <- function(name, description, std, samples, weighted) {
  w <- if (weighted) 1 / std$signal^2 else rep(1, nrow(std))
  std$w <- w
  fit <- ssfpl_fit(std)
  cf <- coef(fit)
  se <- summary(fit)$coefficients[, "Std. Error"]
  inv <- function(y) {
    ratio <- (cf[["B"]] - cf[["A"]]) / (y - cf[["A"]]) - 1
    ifelse(ratio > 0, exp(cf[["xmid"]] - cf[["scal"]] * log(ratio)), NA)
  }
  back <- inv(std$signal)
  lv <- level_table(std$nominal, back)
  list(
    name = name, description = description, model = "4pl",
    weighting = if (weighted) "1/y^2" else "none",
    input = list(standards = std[, c("nominal", "signal")], sample_signal = samples),
    expected = list(
      ssfpl = as.list(cf),
      params = list(a = cf[["A"]], b = 1 / cf[["scal"]], c = exp(cf[["xmid"]]), d = cf[["B"]]),
      std_errors = list(a = se[["A"]], b = se[["scal"]] / cf[["scal"]]^2,
                        c = exp(cf[["xmid"]]) * se[["xmid"]], d = se[["B"]]),
      fitted = unname(fitted(fit)),
      rss = deviance(fit),
      sigma = summary(fit)$sigma,
      df_residual = df.residual(fit),
      r_squared = r2(std$signal, fitted(fit), w),
      back_calculated = back,
      recovery = back / std$nominal * 100,
      level_nominal = lv$nominal, level_recovery = lv$recovery,
      lloq = lv$lloq, uloq = lv$uloq,
      sample_back_calculated = inv(samples),
      converged = fit$convInfo$isConv
    )
  )
}

# ---- 5PL --------------------------------------------------------------------------------

fivepl_case <- function(name, description, std, samples, weighted) {
  w <- if (weighted) 1 / std$signal^2 else rep(1, nrow(std))
  std$w <- w
  start4 <- ssfpl_fit(std)
  s <- coef(start4)
  fit <- nls(signal ~ fivepl_grad(nominal, a, b, lc, d, lg), data = std, weights = w,
             start = list(a = s[["A"]], b = 1 / s[["scal"]], lc = s[["xmid"]], d = s[["B"]],
                          lg = 0),
             control = ctrl_5pl)
  # back to the reported parametrisation: c = exp(lc), g = exp(lg) (delta-method SEs,
  # exact for a reparametrisation of a Wald covariance)
  est <- coef(fit)
  se_raw <- summary(fit)$coefficients[, "Std. Error"]
  cf <- c(a = est[["a"]], b = est[["b"]], c = exp(est[["lc"]]), d = est[["d"]],
          g = exp(est[["lg"]]))
  se <- c(a = se_raw[["a"]], b = se_raw[["b"]], c = cf[["c"]] * se_raw[["lc"]],
          d = se_raw[["d"]], g = cf[["g"]] * se_raw[["lg"]])
  inv <- function(y) {
    vapply(y, function(yi) {
      lo <- min(cf[["a"]], cf[["d"]])
      hi <- max(cf[["a"]], cf[["d"]])
      if (is.na(yi) || yi <= lo || yi >= hi) return(NA_real_)
      f <- function(lx) fivepl(exp(lx), cf[["a"]], cf[["b"]], cf[["c"]], cf[["d"]], cf[["g"]]) - yi
      exp(uniroot(f, c(-60, 60), tol = 1e-14, maxiter = 10000)$root)
    }, 0)
  }
  back <- inv(std$signal)
  lv <- level_table(std$nominal, back)
  list(
    name = name, description = description, model = "5pl",
    weighting = if (weighted) "1/y^2" else "none",
    input = list(standards = std[, c("nominal", "signal")], sample_signal = samples),
    expected = list(
      params = as.list(cf),
      std_errors = as.list(se),
      fitted = unname(fitted(fit)),
      rss = deviance(fit),
      sigma = summary(fit)$sigma,
      df_residual = df.residual(fit),
      r_squared = r2(std$signal, fitted(fit), w),
      back_calculated = back,
      recovery = back / std$nominal * 100,
      level_nominal = lv$nominal, level_recovery = lv$recovery,
      lloq = lv$lloq, uloq = lv$uloq,
      sample_back_calculated = inv(samples),
      converged = fit$convInfo$isConv
    )
  )
}

# ---- qPCR -------------------------------------------------------------------------------

qpcr_case <- function(name, description, std, sample_ct, dna_ng) {
  fit <- lm(signal ~ log10(nominal), data = std)
  cf <- unname(coef(fit))
  sm <- summary(fit)
  inv <- function(ct) 10^((ct - cf[1]) / cf[2])
  back <- inv(std$signal)
  lv <- level_table(std$nominal, back)
  list(
    name = name, description = description, model = "qpcr", weighting = "none",
    input = list(standards = std[, c("nominal", "signal")], sample_signal = sample_ct,
                 dna_ng_per_reaction = dna_ng),
    expected = list(
      params = list(intercept = cf[1], slope = cf[2]),
      std_errors = list(intercept = sm$coefficients[1, 2], slope = sm$coefficients[2, 2]),
      fitted = unname(fitted(fit)),
      rss = sum(residuals(fit)^2),
      sigma = sm$sigma,
      df_residual = df.residual(fit),
      r_squared = sm$r.squared,
      efficiency = 10^(-1 / cf[2]) - 1,
      back_calculated = back,
      recovery = back / std$nominal * 100,
      level_nominal = lv$nominal, level_recovery = lv$recovery,
      lloq = lv$lloq, uloq = lv$uloq,
      sample_back_calculated = inv(sample_ct),
      sample_copies_per_ug = inv(sample_ct) / (dna_ng / 1000),
      converged = TRUE
    )
  )
}

# ---- data -------------------------------------------------------------------------------

cba <- simulate_standards(20240501, top = 5000, fold = 2, n_levels = 9, reps = 2,
                          truth = list(a = 40, b = 1.1, c = 900, d = 25000), cv = 0.05)
elisa <- simulate_standards(20240502, top = 1000, fold = 2, n_levels = 8, reps = 2,
                            truth = list(a = 0.05, b = 1.3, c = 150, d = 2.8), cv = 0.04)
competitive <- simulate_standards(20240503, top = 2000, fold = 3, n_levels = 8, reps = 2,
                                  truth = list(a = 2.0, b = 0.9, c = 50, d = 0.1), cv = 0.03)
luminex <- simulate_standards(20240504, top = 10000, fold = 3, n_levels = 10, reps = 2,
                              truth = list(a = 30, b = 0.9, c = 1200, d = 30000, g = 0.5),
                              cv = 0.03, model = fivepl)
set.seed(20240505)
plasmid <- data.frame(nominal = rep(10^(6:1), each = 3))
plasmid$signal <- 38.5 - 3.40 * log10(plasmid$nominal) + rnorm(nrow(plasmid), 0, 0.15)

cases <- list(
  fourpl_case("cba_il6_4pl", "simulated CBA IL-6 (MFI), 9 two-fold levels in duplicate, 5% CV",
              cba, c(35, 60, 250, 1200, 8000, 20000, 24000, 30000), weighted = FALSE),
  fourpl_case("elisa_od_4pl_weighted", "simulated sandwich ELISA (OD), 1/y^2 weights",
              elisa, c(0.04, 0.07, 0.3, 1.1, 2.2, 2.9), weighted = TRUE),
  fourpl_case("competitive_4pl", "simulated competitive ELISA: signal falls with concentration",
              competitive, c(2.5, 1.9, 1.2, 0.5, 0.15, 0.05), weighted = FALSE),
  fivepl_case("luminex_5pl", "simulated Luminex (MFI), asymmetric curve g = 0.5, 10 levels",
              luminex, c(25, 50, 300, 3000, 15000, 29000, 40000), weighted = FALSE),
  fivepl_case("luminex_5pl_weighted", "as luminex_5pl with 1/y^2 weights",
              luminex, c(25, 50, 300, 3000, 15000, 29000, 40000), weighted = TRUE),
  qpcr_case("plasmid_qpcr", "simulated plasmid dilution 1e6..1e1 copies, triplicates",
            plasmid, c(18.2, 25.0, 31.7, 35.9, 41.0), dna_ng = 100)
)
names(cases) <- vapply(cases, `[[`, "", "name")

result <- list(
  provenance = list(
    source = R.version.string,
    packages = list(stats = as.character(packageVersion("stats")),
                    jsonlite = as.character(packageVersion("jsonlite"))),
    script = "tests/reference/r/assay.R",
    generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
    platform = R.version$platform,
    rtol = list(nls = 1e-6, lm = 1e-10)
  ),
  cases = cases
)

write_json(result, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
cat("wrote", out_path, "\n")
