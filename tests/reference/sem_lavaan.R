# Reference values for mutualaid_outcomes.models.sem (fit_sem and its builders) from R lavaan.
#
# Exports lavaan's own data sets (HolzingerSwineford1939, PoliticalDemocracy) to tests/data/,
# simulates a three-wave panel with missing waves and a latent-mediator data set (written to
# tests/data/ too), fits the models below with lavaan at tight convergence and writes
#   sem_lavaan_params.csv  parameter estimates, SEs, std.all (one row per parameter)
#   sem_lavaan_fit.csv     chi-square, df, fit indices, log-likelihood, AIC/BIC (+ scaled)
#   sem_lavaan_mi.csv      modification indices of the Holzinger-Swineford CFA
#   sem_lavaan_boot.csv    bootstrap percentile limits of the latent indirect effect
# Run from the repository root:  Rscript tests/reference/sem_lavaan.R
suppressPackageStartupMessages(library(lavaan))
dd <- "tests/data"
rd <- "tests/reference"

# ------------------------------------------------------------------ data
hs <- lavaan::HolzingerSwineford1939
hs$school <- as.character(hs$school)
write.csv(hs, file.path(dd, "sem_holzinger_swineford.csv"), row.names = FALSE)
pd <- lavaan::PoliticalDemocracy
write.csv(pd, file.path(dd, "sem_political_democracy.csv"), row.names = FALSE)
hs <- read.csv(file.path(dd, "sem_holzinger_swineford.csv"))
pd <- read.csv(file.path(dd, "sem_political_democracy.csv"))

# Four-wave panel (months 0, 6, 12, 18) of mutual-help attendance and drinking: a random-intercept
# cross-lagged process, a baseline covariate (age, standardised) and 20% of person-waves missing
# (whole waves dropped from the long file).
set.seed(20240620)
n <- 500
ri <- MASS::mvrnorm(n, c(0, 0), matrix(c(1, -0.4, -0.4, 1), 2))
age <- round(rnorm(n), 6)
wx <- wy <- matrix(0, n, 4)
wx[, 1] <- rnorm(n)
wy[, 1] <- -0.3 * wx[, 1] + rnorm(n, sd = sqrt(0.91))
for (t in 2:4) {
  wx[, t] <- 0.4 * wx[, t - 1] - 0.15 * wy[, t - 1] + rnorm(n, sd = 0.8)
  wy[, t] <- -0.2 * wx[, t - 1] + 0.35 * wy[, t - 1] + rnorm(n, sd = 0.8)
}
long <- do.call(rbind, lapply(1:4, function(t) {
  data.frame(id = 1:n, month = c(0, 6, 12, 18)[t],
             attend = round(2 + 0.3 * t + 0.2 * age + ri[, 1] + wx[, t], 6),
             drink = round(3 - 0.2 * t - 0.1 * age + ri[, 2] + wy[, t], 6),
             age = age)
}))
long <- long[runif(nrow(long)) > 0.2, ]
long <- long[order(long$id, long$month), ]
write.csv(long, file.path(dd, "sem_panel_long.csv"), row.names = FALSE)
long <- read.csv(file.path(dd, "sem_panel_long.csv"))
wide <- data.frame(id = sort(unique(long$id)))
for (t in 1:4) {
  w <- long[long$month == c(0, 6, 12, 18)[t], ]
  wide[[paste0("attend_", t)]] <- w$attend[match(wide$id, w$id)]
  wide[[paste0("drink_", t)]] <- w$drink[match(wide$id, w$id)]
}
wide$age <- long$age[match(wide$id, long$id)]

# Latent mediator: exposure x -> latent support (3 indicators) -> outcome y, covariate c1.
set.seed(20240621)
n2 <- 300
c1 <- rnorm(n2)
x <- rbinom(n2, 1, 0.5)
eta <- 0.5 * x + 0.3 * c1 + rnorm(n2)
med <- data.frame(x = x, c1 = round(c1, 6),
                  s1 = round(1.0 * eta + rnorm(n2, sd = 0.6), 6),
                  s2 = round(0.8 * eta + rnorm(n2, sd = 0.7), 6),
                  s3 = round(1.2 * eta + rnorm(n2, sd = 0.8), 6))
med$y <- round(0.4 * eta + 0.2 * x - 0.1 * c1 + rnorm(n2), 6)
write.csv(med, file.path(dd, "sem_latent_mediation.csv"), row.names = FALSE)
med <- read.csv(file.path(dd, "sem_latent_mediation.csv"))

# ------------------------------------------------------------------ models
# lavaan's optimiser (nlminb) stops at |gradient| ~ 1e-6 to 1e-7; tighter rel.tol gives "false
# convergence". Each fit is therefore polished with Newton steps on lavaan's own gradient and
# (numerical) Hessian, in the space of the equality-constrained parameters, and lavaan then
# recomputes everything (SEs, tests, fit measures) at the polished estimates.
pgrad <- function(fit) {
  g <- lavInspect(fit, "gradient")
  if (fit@Model@eq.constraints) g <- g %*% fit@Model@eq.constraints.K
  max(abs(g))
}
polish <- function(fit, steps = 4L) {
  for (s in seq_len(steps)) {
    g <- as.numeric(lavInspect(fit, "gradient"))
    H <- lavTech(fit, "hessian")
    pt <- parTable(fit)
    x <- pt$est[pt$free > 0][order(pt$free[pt$free > 0])]
    if (fit@Model@eq.constraints) {
      K <- fit@Model@eq.constraints.K
      dx <- K %*% solve(t(K) %*% H %*% K, t(K) %*% g)
    } else {
      dx <- solve(H, g)
    }
    xnew <- x - as.numeric(dx)
    pt$est[pt$free > 0] <- xnew[pt$free[pt$free > 0]]
    pt$start <- pt$est
    # (fixed.x restated: a parameter table as `start` otherwise switches fixed.x off)
    fit <- update(fit, start = pt, optim.method = "none", optim.force.converged = TRUE,
                  fixed.x = fit@Options$fixed.x)
  }
  fit
}
em <- 1e-13
emi <- 100000L

hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
pd_model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
"
hs_groups_model <- "
  visual  =~ x1 + c(v2, v2)*x2 + c(v3a, v3b)*x3
  textual =~ x4 + t5*x5 + x6
  speed   =~ x7 + x8 + x9
"
clpm_model <- "
  attend_2 ~ attend_1 + drink_1
  drink_2 ~ attend_1 + drink_1
  attend_3 ~ attend_2 + drink_2
  drink_3 ~ attend_2 + drink_2
  attend_4 ~ attend_3 + drink_3
  drink_4 ~ attend_3 + drink_3
  attend_1 ~~ drink_1
  attend_2 ~~ drink_2
  attend_3 ~~ drink_3
  attend_4 ~~ drink_4
"
riclpm_model <- "
  ri_attend =~ 1*attend_1 + 1*attend_2 + 1*attend_3 + 1*attend_4
  ri_drink =~ 1*drink_1 + 1*drink_2 + 1*drink_3 + 1*drink_4
  w_attend_1 =~ 1*attend_1
  w_attend_2 =~ 1*attend_2
  w_attend_3 =~ 1*attend_3
  w_attend_4 =~ 1*attend_4
  w_drink_1 =~ 1*drink_1
  w_drink_2 =~ 1*drink_2
  w_drink_3 =~ 1*drink_3
  w_drink_4 =~ 1*drink_4
  w_attend_2 ~ w_attend_1 + w_drink_1
  w_drink_2 ~ w_attend_1 + w_drink_1
  w_attend_3 ~ w_attend_2 + w_drink_2
  w_drink_3 ~ w_attend_2 + w_drink_2
  w_attend_4 ~ w_attend_3 + w_drink_3
  w_drink_4 ~ w_attend_3 + w_drink_3
  w_attend_1 ~~ w_drink_1
  w_attend_2 ~~ w_drink_2
  w_attend_3 ~~ w_drink_3
  w_attend_4 ~~ w_drink_4
  ri_attend ~~ ri_drink
  ri_attend ~~ 0*w_attend_1 + 0*w_drink_1
  ri_drink ~~ 0*w_attend_1 + 0*w_drink_1
  attend_1 ~~ 0*attend_1
  attend_2 ~~ 0*attend_2
  attend_3 ~~ 0*attend_3
  attend_4 ~~ 0*attend_4
  drink_1 ~~ 0*drink_1
  drink_2 ~~ 0*drink_2
  drink_3 ~~ 0*drink_3
  drink_4 ~~ 0*drink_4
"
growth_model <- "
  i =~ 1*drink_1 + 1*drink_2 + 1*drink_3 + 1*drink_4
  s =~ 0*drink_1 + 0.5*drink_2 + 1*drink_3 + 1.5*drink_4
  i ~ age
  s ~ age
"
med_model <- "
  support =~ s1 + s2 + s3
  support ~ a*x + c1
  y ~ b*support + cp*x + c1
  indirect := a*b
  total := cp + a*b
"

fits <- list(
  hs_cfa = cfa(hs_model, data = hs),
  hs_cfa_mlr = cfa(hs_model, data = hs, estimator = "MLR"),
  pd_sem = sem(pd_model, data = pd),
  pd_sem_mlr = sem(pd_model, data = pd, estimator = "MLR"),
  hs_groups = cfa(hs_groups_model, data = hs, group = "school"),
  hs_invariance = cfa(hs_model, data = hs, group = "school",
                      group.equal = c("loadings", "intercepts")),
  clpm_fiml = sem(clpm_model, data = wide, missing = "ml", em.h1.tol = em,
                  em.h1.iter.max = emi),
  riclpm_fiml = sem(riclpm_model, data = wide, missing = "ml", em.h1.tol = em,
                    em.h1.iter.max = emi),
  riclpm_fiml_mlr = sem(riclpm_model, data = wide, missing = "ml", estimator = "MLR",
                        em.h1.tol = em, em.h1.iter.max = emi),
  growth_fiml = growth(growth_model, data = wide, missing = "ml", em.h1.tol = em,
                       em.h1.iter.max = emi),
  latent_med = sem(med_model, data = med),
  # cluster-robust SEs and scaled test (agemo: 12 clusters; a numerical check of the
  # clustered sandwich, not a substantive design)
  hs_cluster = cfa(hs_model, data = hs, cluster = "agemo"),
  hs_cluster_mlr = cfa(hs_model, data = hs, cluster = "agemo", estimator = "MLR")
)
fits0 <- fits
fits <- lapply(fits, polish)

params <- list()
fitrows <- list()
for (name in names(fits)) {
  fit <- fits[[name]]
  stopifnot(lavInspect(fit, "converged"))
  grad <- pgrad(fit)
  cat(sprintf("%-16s max |gradient| %.2e\n", name, grad))
  stopifnot(grad < 1e-9)
  pe <- parameterEstimates(fit, standardized = TRUE, remove.eq = TRUE, remove.system.eq = TRUE)
  if (is.null(pe$group)) pe$group <- 1L
  if (is.null(pe$label)) pe$label <- ""
  params[[name]] <- data.frame(model = name, lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
                               group = pe$group, label = pe$label, est = pe$est, se = pe$se,
                               std_all = pe$std.all)
  # (the baseline model is refitted from the unpolished object: lavaan's independence-model
  # refit fails on some polished FIML objects)
  base <- lavaan:::lav_object_independence(fits0[[name]])
  fm <- fitMeasures(fit, baseline.model = base)
  keep <- c("npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli",
            "logl", "unrestricted.logl", "aic", "bic", "ntotal", "rmsea", "rmsea.ci.lower",
            "rmsea.ci.upper", "rmsea.pvalue", "srmr", "chisq.scaled", "df.scaled",
            "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq.scaled", "cfi.scaled",
            "tli.scaled", "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
            "scaling.factor.h1", "scaling.factor.h0", "cfi.robust", "tli.robust",
            "rmsea.robust")
  keep <- keep[keep %in% names(fm)]
  vals <- unname(as.numeric(fm[keep]))
  # Under missing = "ml" the robust CFI/TLI come from lav_fit_fiml_corrected(), which refits
  # the independence model from the (polished) object itself; that refit fails on some
  # polished objects and lavaan then reports NA. The same function is rerun with the
  # independence model of the unpolished fit (identical up to nlminb's tolerance).
  if (fit@Options$missing == "ml" && is.na(fm[["cfi.robust"]])) {
    ns <- asNamespace("lavaan")
    orig <- get("lav_object_independence", ns)
    unlockBinding("lav_object_independence", ns)
    assign("lav_object_independence", function(...) base, envir = ns)
    fm2 <- fitMeasures(fit, c("cfi.robust", "tli.robust"), baseline.model = base)
    assign("lav_object_independence", orig, envir = ns)
    lockBinding("lav_object_independence", ns)
    vals[match(c("cfi.robust", "tli.robust"), keep)] <- as.numeric(fm2[c("cfi.robust", "tli.robust")])
  }
  # lavaan finds the RMSEA limits with uniroot() at its default tolerance (about 1e-4 in
  # the non-centrality); the same limits at a tight tolerance are reported beside them.
  exact_ci <- function(X2, df, N, G) {
    if (!is.finite(X2) || !is.finite(df)) return(c(NA, NA))
    lo <- function(l) pchisq(X2, df, ncp = l) - 0.95
    hi <- function(l) pchisq(X2, df, ncp = l) - 0.05
    l_lo <- if (df < 1 || lo(0) < 0) 0 else uniroot(lo, c(0, X2), tol = 1e-14)$root
    upper <- max(N, X2 * 4)
    l_hi <- if (df < 1 || hi(upper) > 0 || hi(0) < 0) 0 else
      uniroot(hi, c(0, upper), tol = 1e-14)$root
    sqrt(c(l_lo, l_hi) / (N * df)) * sqrt(G)
  }
  G <- lavInspect(fit, "ngroups")
  ci <- exact_ci(fm[["chisq"]], fm[["df"]], fm[["ntotal"]], G)
  keep <- c(keep, "rmsea.ci.lower.exact", "rmsea.ci.upper.exact")
  vals <- c(vals, ci)
  if ("chisq.scaled" %in% names(fm)) {
    trace <- fm[["chisq.scaling.factor"]] * fm[["df"]]
    ci2 <- exact_ci(fm[["chisq"]], trace, fm[["ntotal"]], G)
    keep <- c(keep, "rmsea.ci.lower.scaled.exact", "rmsea.ci.upper.scaled.exact")
    vals <- c(vals, ci2)
  }
  fitrows[[name]] <- data.frame(model = name, measure = keep, value = vals)
}

header <- sprintf("# %s; lavaan %s; polished by Newton steps to |gradient| < 1e-9; EM h1 tol = 1e-13",
                  R.version.string, packageVersion("lavaan"))
write_ref <- function(frame, file, note) {
  con <- file(file.path(rd, file), "w")
  writeLines(header, con)
  writeLines(paste("#", note), con)
  write.csv(frame, con, row.names = FALSE)
  close(con)
}
write_ref(do.call(rbind, params), "sem_lavaan_params.csv",
          "parameterEstimates(fit, standardized = TRUE): est, se, std.all")
write_ref(do.call(rbind, fitrows), "sem_lavaan_fit.csv",
          "fitMeasures(fit); *.exact: RMSEA limits from uniroot(tol = 1e-14)")

mi <- modindices(fits$hs_cfa)
write_ref(data.frame(lhs = mi$lhs, op = mi$op, rhs = mi$rhs, mi = mi$mi, epc = mi$epc,
                     sepc_all = mi$sepc.all),
          "sem_lavaan_mi.csv", "modindices(hs_cfa): expected information")

# Bootstrap percentile limits of the latent indirect effect (4,000 ordinary resamples; about
# half an hour; SEM_SKIP_BOOT=1 skips this part and keeps the existing file).
if (Sys.getenv("SEM_SKIP_BOOT") == "1") quit(save = "no")
set.seed(1)
t0 <- proc.time()[["elapsed"]]
fb <- sem(med_model, data = med, se = "bootstrap", bootstrap = 4000L)
secs <- proc.time()[["elapsed"]] - t0
pb <- parameterEstimates(fb, boot.ci.type = "perc", level = 0.95)
pb <- pb[pb$op == ":=", ]
write_ref(data.frame(term = pb$lhs, estimate = pb$est, boot_sd = pb$se,
                     conf_low = pb$ci.lower, conf_high = pb$ci.upper,
                     n_boot = nrow(lavInspect(fb, "boot")), seconds = secs),
          "sem_lavaan_boot.csv", "sem(med_model, se = 'bootstrap', bootstrap = 4000), set.seed(1)")
