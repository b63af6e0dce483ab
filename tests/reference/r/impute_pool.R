# Reference values for cartcohort.analyse.impute.impute_and_pool (Rubin's rules).
#
# Run from the repository root:  Rscript tests/reference/r/impute_pool.R
# Writes tests/reference/cases/impute_pool.json: the incomplete data, the M imputed
# datasets (made here by mice, so Python and R pool the same imputations), the expected
# pooled values, the tolerance and the provenance. Never edit the JSON by hand.
#
# Oracle (mice 3.15.0, survival 3.5-3):
#   fits <- lapply(imputed, function(d) coxph(Surv(time, status) ~ ..., data = d))  # efron
#   fits <- lapply(imputed, function(d) glm(response ~ ..., family = binomial, data = d,
#                  control = glm.control(epsilon = 1e-14)))  # converged to the 1e-6 check
#   p <- pool(as.mira(fits)); s <- summary(p, conf.int = TRUE)
# p$pooled gives estimate, ubar, b, t, dfcom, df, riv, lambda, fmi; s gives std.error,
# statistic, p.value and the 95% interval (estimate +- qt(0.975, df) * std.error).
# mice's dfcom: glm -> df.residual (n - number of coefficients); coxph -> number of events
# minus number of coefficients (mice:::get.dfcom).
suppressPackageStartupMessages({
  library(survival)
  library(mice)
  library(jsonlite)
})

out_path <- file.path("tests", "reference", "cases", "impute_pool.json")
if (!dir.exists(dirname(out_path))) stop("Run this script from the repository root.")

set.seed(20261207)
n <- 60
age <- round(rnorm(n, 60, 10))
ldh <- round(exp(rnorm(n, log(250) + 0.01 * (age - 60), 0.4)))
stage <- sample(c("I-II", "III", "IV"), n, replace = TRUE, prob = c(0.3, 0.3, 0.4))
lp <- 0.03 * (age - 60) + 0.8 * (log(ldh) - log(250)) + 0.5 * (stage == "IV")
t_event <- rexp(n, 0.02 * exp(lp))
t_cens <- runif(n, 10, 90)
full <- data.frame(
  id = seq_len(n),
  time = round(pmin(t_event, t_cens), 1),
  status = as.integer(t_event <= t_cens),
  response = rbinom(n, 1, plogis(-0.2 - lp)),
  age = age,
  log_ldh = round(log(ldh), 4),
  stage = stage
)
incomplete <- full
incomplete$age[sample(n, 9)] <- NA
incomplete$log_ldh[sample(n, 18)] <- NA

impute <- function(data, m, seed) {
  data$stage <- factor(data$stage)
  data$cumhaz <- nelsonaalen(data, time, status)
  pred <- make.predictorMatrix(data)
  pred[, c("id", "time")] <- 0
  imp <- mice(data, m = m, method = "pmm", predictorMatrix = pred, seed = seed,
              printFlag = FALSE, maxit = 10)
  lapply(seq_len(m), function(i) {
    d <- complete(imp, i)
    d$stage <- as.character(d$stage)
    d$cumhaz <- NULL
    d
  })
}

pool_case <- function(name, model, rhs, imputed) {
  fits <- lapply(imputed, function(d) {
    d$stage <- factor(d$stage, levels = c("I-II", "III", "IV"))
    if (model == "cox") {
      coxph(as.formula(paste("Surv(time, status) ~", rhs)), data = d)
    } else {
      glm(as.formula(paste("response ~", rhs)), family = binomial, data = d,
          control = glm.control(epsilon = 1e-14, maxit = 100))
    }
  })
  p <- pool(as.mira(fits))
  s <- summary(p, conf.int = TRUE)
  pooled <- p$pooled
  list(
    name = name, model = model, covariates = I(strsplit(rhs, " \\+ ")[[1]]),
    m = length(imputed), imputed = imputed,
    term = I(as.character(s$term)),
    estimate = I(s$estimate), std_error = I(s$std.error), statistic = I(s$statistic),
    df = I(s$df), p_value = I(s$p.value), lower = I(s[["2.5 %"]]), upper = I(s[["97.5 %"]]),
    ubar = I(pooled$ubar), b = I(pooled$b), t = I(pooled$t), dfcom = pooled$dfcom[1],
    riv = I(pooled$riv), lambda = I(pooled$lambda), fmi = I(pooled$fmi),
    per_imputation_estimate = lapply(fits, function(f) I(unname(coef(f))))
  )
}

imp5 <- impute(incomplete, 5, 11)
imp3 <- impute(incomplete, 3, 12)
out <- list(
  provenance = list(
    source = R.version.string,
    packages = list(mice = as.character(packageVersion("mice")),
                    survival = as.character(packageVersion("survival"))),
    script = "tests/reference/r/impute_pool.R"
  ),
  rtol = list(iterative = 1e-6),
  data = incomplete,
  cases = list(
    pool_case("cox_m5", "cox", "age + log_ldh + stage", imp5),
    pool_case("logistic_m5", "logistic", "age + log_ldh + stage", imp5),
    pool_case("cox_m3", "cox", "age + log_ldh", imp3)
  )
)
write_json(out, out_path, digits = NA, auto_unbox = TRUE, pretty = FALSE, na = "null")
cat("wrote", out_path, "\n")
