# Reference values for cartcohort.derive.kinetics.kinetics_nca.
#
# PKNCA is not installed in this environment (and CRAN is not reachable), so this script
# is an independent, deliberately plain base-R NCA that follows PKNCA's documented and
# source-code rules (PKNCA 0.12: clean.conc.blq, pk.calc.cmax/tmax/tlast,
# choose_interval_method + interpolate.conc for the AUC windows, pk.calc.half.life with
# lm() for every candidate fit). It shares no code with the Python implementation: the
# AUC window end is inserted as an interpolated point (as PKNCA's aucint does) rather than
# integrated as a partial segment, and every fit is an lm() call rather than cumulative sums.
#
# Differences from PKNCA that cartcohort makes on purpose, reproduced here:
#   * an AUC window whose end is after the last sample is NA (PKNCA aucint.last: zero),
#   * the time-0 value is the sample on the infusion day, else the last pre-infusion sample
#     of that infusion (BLQ as 0), else 0.
#
# Regenerate with:  Rscript tests/reference/r/kinetics.R   (from the repository root)

suppressPackageStartupMessages(library(jsonlite))
options(digits = 16)

# ---- one profile ------------------------------------------------------------------------

clean_blq <- function(time, conc, quant, policy) {
  if (any(quant)) {
    tfirst <- min(time[quant])
    tlast <- max(time[quant])
  } else {
    tfirst <- Inf  # every sample is "first" when none is quantifiable
    tlast <- Inf
  }
  pos <- ifelse(quant, "q",
         ifelse(time <= tfirst, "first",
         ifelse(time >= tlast, "last", "middle")))
  keep <- rep(TRUE, length(time))
  for (p in c("first", "middle", "last")) {
    if (policy[[p]] == "drop") keep[pos == p] <- FALSE
  }
  data.frame(time = time[keep], conc = ifelse(quant, conc, 0)[keep])
}

seg_method <- function(c1, c2, method) {
  if (method == "linear" || c2 >= c1 || c2 == 0) "linear" else "log"
}

seg_area <- function(t1, t2, c1, c2, m) {
  if (m == "linear") (t2 - t1) * (c1 + c2) / 2 else (t2 - t1) * (c1 - c2) / log(c1 / c2)
}

interp_conc <- function(t1, t2, c1, c2, m, t) {
  if (m == "linear") {
    c1 + (t - t1) / (t2 - t1) * (c2 - c1)
  } else {
    exp(log(c1) + (t - t1) / (t2 - t1) * (log(c2) - log(c1)))
  }
}

auc_to <- function(time, conc, tlast, end, method, last_sample) {
  if (last_sample < end) return(NA_real_)
  if (is.na(tlast)) return(0)
  if (!(end %in% time)) {
    if (end > tlast) {
      cend <- 0
    } else {
      i <- max(which(time < end))
      m <- seg_method(conc[i], conc[i + 1], method)
      cend <- interp_conc(time[i], time[i + 1], conc[i], conc[i + 1], m, end)
    }
    time <- c(time, end)
    conc <- c(conc, cend)
    o <- order(time)
    time <- time[o]
    conc <- conc[o]
  }
  keep <- time <= end
  time <- time[keep]
  conc <- conc[keep]
  total <- 0
  for (i in seq_len(length(time) - 1)) {
    if (time[i] >= tlast) next  # AUClast convention: nothing after Tlast
    m <- seg_method(conc[i], conc[i + 1], method)
    total <- total + seg_area(time[i], time[i + 1], conc[i], conc[i + 1], m)
  }
  total
}

half_life <- function(time, conc, tmax, min_points = 3, factor = 1e-4) {
  none <- list(half_life = NA_real_, n = NA_integer_, adj = NA_real_)
  if (is.na(tmax)) return(none)
  sel <- time > tmax & conc > 0
  t <- time[sel]
  y <- log(conc[sel])
  m <- length(t)
  if (m < min_points) return(none)
  ns <- min_points:m
  lam <- adj <- rep(NA_real_, length(ns))
  for (k in seq_along(ns)) {
    idx <- (m - ns[k] + 1):m
    tt <- t[idx]
    yy <- y[idx]
    fit <- lm(yy ~ tt)
    lam[k] <- -unname(coef(fit)[2])
    adj[k] <- suppressWarnings(summary(fit)$adj.r.squared)
  }
  best <- max(adj, na.rm = TRUE)
  ok <- lam > 0 & adj > best - factor
  ok[is.na(ok)] <- FALSE
  if (!any(ok)) return(none)
  k <- which(ok & ns == max(ns[ok]))
  list(half_life = log(2) / lam[k], n = ns[k], adj = adj[k])
}

nca_profile <- function(time, value, lloq, c0, method, policy) {
  quant <- value > 0 & !(!is.na(lloq) & value < lloq)
  n_samples <- length(time)
  n_blq <- sum(!quant)
  last_sample <- if (n_samples) max(time) else NA_real_
  d <- clean_blq(time, value, quant, policy)
  if (nrow(d) == 0) {
    cmax <- NA_real_
  } else {
    cmax <- max(d$conc)
  }
  if (is.na(cmax) || cmax == 0) {
    tmax <- NA_real_
    tlast <- NA_real_
  } else {
    tmax <- d$time[which(d$conc == cmax)[1]]
    tlast <- max(d$time[d$conc > 0])
  }
  ta <- d$time
  ca <- d$conc
  if (!(0 %in% ta)) {
    ta <- c(0, ta)
    ca <- c(c0, ca)
  }
  auc28 <- if (n_samples) auc_to(ta, ca, tlast, 28, method, last_sample) else NA_real_
  auc84 <- if (n_samples) auc_to(ta, ca, tlast, 84, method, last_sample) else NA_real_
  hl <- half_life(d$time, d$conc, tmax)
  list(n_samples = n_samples, n_blq = n_blq, cmax = cmax, tmax = tmax, auc_0_28 = auc28,
       auc_0_84 = auc84, tlast = tlast, half_life = hl$half_life,
       half_life_points = hl$n, half_life_adj_r2 = hl$adj)
}

nca_table <- function(kin, infusions, method, policy) {
  keys <- unique(kin[, c("patient_id", "infusion")])
  keys <- keys[order(keys$patient_id, keys$infusion), ]
  rows <- list()
  for (r in seq_len(nrow(keys))) {
    pid <- keys$patient_id[r]
    inf <- keys$infusion[r]
    k <- kin[kin$patient_id == pid & kin$infusion == inf & !is.na(kin$value), ]
    infday <- NA_real_
    if (!is.null(infusions)) {
      hit <- infusions$day[infusions$patient_id == pid & infusions$infusion == inf]
      if (length(hit)) infday <- hit[1]
    }
    if (is.na(infday)) infday <- if (inf == 1) 0 else min(kin$day[kin$patient_id == pid &
                                                                  kin$infusion == inf])
    time <- k$day - infday
    quant <- k$value > 0 & !(!is.na(k$lloq) & k$value < k$lloq)
    pre <- time < 0
    c0 <- 0
    if (any(pre)) {
      j <- which(pre)[which.max(time[pre])]
      c0 <- if (quant[j]) k$value[j] else 0
    }
    o <- order(time[!pre])
    res <- nca_profile(time[!pre][o], k$value[!pre][o], k$lloq[!pre][o], c0, method, policy)
    res$persistence_day <- infday + res$tlast
    rows[[r]] <- c(list(patient_id = pid, infusion = inf, infusion_day = infday), res)
  }
  do.call(rbind.data.frame, rows)
}

# ---- cases -------------------------------------------------------------------------------

pknca <- list(first = "keep", middle = "drop", last = "keep")
all_keep <- list(first = "keep", middle = "keep", last = "keep")
all_drop <- list(first = "drop", middle = "drop", last = "drop")

kin_frame <- function(pid, infusion, day, value, lloq) {
  data.frame(patient_id = pid, infusion = infusion, day = day, value = value, lloq = lloq,
             stringsAsFactors = FALSE)
}

hand <- rbind(
  # mono-exponential decline, half-life 7 d from day 7
  kin_frame("A-monoexp", 1, c(0, 7, 14, 21, 28, 42, 84),
            c(0, 16000, 8000, 4000, 2000, 500, 7.8125), 1),
  # day-28 end interpolated between day 21 and day 35
  kin_frame("B-interp", 1, c(0, 7, 21, 35), c(0, 10000, 4000, 1000), 10),
  # BLQ first / middle / last
  kin_frame("C-blq", 1, c(0, 3, 7, 10, 14, 21, 28, 35, 42, 90),
            c(20, 0, 1000, 30, 4000, 2000, 1000, 40, 0, 0), 50),
  # a single quantifiable sample
  kin_frame("D-single", 1, c(0, 14, 28), c(0, 500, 0), 50),
  # nothing quantifiable
  kin_frame("E-allblq", 1, c(0, 7, 14, 28), c(0, 10, 20, 5), 50),
  # no terminal decline after Tmax
  kin_frame("G-rising-tail", 1, c(0, 14, 21, 28, 35), c(0, 4000, 1000, 1500, 2000), 50),
  # tie at the maximum: first time wins
  kin_frame("H-tie", 1, c(0, 7, 10, 14, 21, 28, 42), c(0, 3000, 3000, 1500, 900, 400, 100), 50),
  # re-infusion on day 60, with a pre-infusion sample on day 56
  kin_frame("F-reinf", 1, c(0, 7, 14, 21, 28), c(0, 2000, 1000, 500, 250), 50),
  kin_frame("F-reinf", 2, c(56, 67, 74, 81, 88), c(100, 800, 400, 200, 100), 50)
)
hand_infusions <- data.frame(patient_id = c("F-reinf", "F-reinf"), infusion = c(1, 2),
                             day = c(0, 60), stringsAsFactors = FALSE)

set.seed(20240611)
random_profiles <- function(n) {
  out <- list()
  for (i in seq_len(n)) {
    days <- sort(unique(c(0, sample(1:200, sample(4:16, 1)))))
    peak <- exp(rnorm(1, log(2e4), 1))
    tpk <- sample(c(7, 10, 14), 1)
    k1 <- exp(rnorm(1, log(0.15), 0.4))
    k2 <- exp(rnorm(1, log(0.01), 0.5))
    rise <- peak * exp(-((days - tpk) / 4)^2)
    fall <- peak * (0.85 * exp(-k1 * (days - tpk)) + 0.15 * exp(-k2 * (days - tpk)))
    v <- ifelse(days <= tpk, rise, fall) * exp(rnorm(length(days), 0, 0.3))
    v <- round(v, 2)
    v[v < 50 & runif(length(v)) < 0.5] <- 0  # BLQ coded 0 or reported below the LLOQ
    out[[i]] <- kin_frame(sprintf("R%03d", i), 1, days, v, 50)
  }
  do.call(rbind, out)
}
random <- random_profiles(60)

case <- function(id, kin, infusions, method, policy) {
  list(
    id = id,
    auc_method = method,
    blq = policy,
    input = as.list(kin),
    infusions = if (is.null(infusions)) NULL else as.list(infusions),
    expected = as.list(nca_table(kin, infusions, method, policy))
  )
}

cases <- list(
  case("hand-linlog-pknca", hand, hand_infusions, "lin-up/log-down", pknca),
  case("hand-linear-pknca", hand, hand_infusions, "linear", pknca),
  case("hand-linlog-allkeep", hand, hand_infusions, "lin-up/log-down", all_keep),
  case("hand-linlog-alldrop", hand, hand_infusions, "lin-up/log-down", all_drop),
  case("random-linlog-pknca", random, NULL, "lin-up/log-down", pknca),
  case("random-linear-pknca", random, NULL, "linear", pknca),
  case("random-linlog-allkeep", random, NULL, "lin-up/log-down", all_keep)
)

si <- sessionInfo()
out <- list(
  source = sprintf("%s, base R only (independent NCA; PKNCA not installed)",
                   si$R.version$version.string),
  script = "r/kinetics.R",
  generated = format(Sys.time(), "%Y-%m-%d", tz = "UTC"),
  rtol = 1e-10,
  session_info = paste(capture.output(print(si)), collapse = "\n"),
  cases = cases
)
args <- commandArgs(trailingOnly = FALSE)
script_dir <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
path <- file.path(script_dir, "..", "cases", "kinetics.json")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null",
                  pretty = TRUE), path)
cat("wrote", normalizePath(path), "\n")
