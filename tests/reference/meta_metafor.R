# Reference values for the meta-analysis subpackage (mutualaid_outcomes.models.meta).
# Run from the repository root:  Rscript tests/reference/meta_metafor.R
# Exports the published data sets of metadat used by the tests to tests/data/ and
# writes tests/reference/meta_metafor.csv (long: model, quantity, term, value).
suppressPackageStartupMessages({ library(metafor); library(metadat) })
dd <- "tests/data"

# ---- data (published trial-level data shipped with metadat) --------------------------------
write.csv(dat.bcg, file.path(dd, "meta_bcg.csv"), row.names = FALSE)
write.csv(dat.normand1999, file.path(dd, "meta_normand1999.csv"), row.names = FALSE)
write.csv(dat.molloy2014, file.path(dd, "meta_molloy2014.csv"), row.names = FALSE)
write.csv(dat.hart1999, file.path(dd, "meta_hart1999.csv"), row.names = FALSE)
write.csv(dat.nielweise2007, file.path(dd, "meta_nielweise2007.csv"), row.names = FALSE)
bcg <- read.csv(file.path(dd, "meta_bcg.csv"))
normand <- read.csv(file.path(dd, "meta_normand1999.csv"))
molloy <- read.csv(file.path(dd, "meta_molloy2014.csv"))
hart <- read.csv(file.path(dd, "meta_hart1999.csv"))
niel <- read.csv(file.path(dd, "meta_nielweise2007.csv"))

out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  if (length(values) == 0) return(invisible())
  if (is.null(terms)) terms <- seq_along(values)
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = as.character(terms),
                                        value = unname(as.numeric(values)))
}
one <- function(model, quantity, value) add(model, quantity, value, "")

# Fisher scoring and root finding run to full convergence (defaults: threshold 1e-5,
# tol = .Machine$double.eps^0.25) so the comparison measures the method, not the stopping rule.
ctl <- list(threshold = 1e-10, tol = 1e-13, maxiter = 10000)
ctl_ci <- list(tol = 1e-13, maxiter = 10000)
methods <- c("FE", "DL", "HE", "SJ", "PM", "ML", "REML")

# ---- effect sizes (escalc) -----------------------------------------------------------------
es <- function(model, dat) {
  add(model, "yi", dat$yi, seq_along(dat$yi))
  add(model, "vi", dat$vi, seq_along(dat$vi))
}
es("es_bcg_RR", escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))
es("es_bcg_OR", escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))
es("es_bcg_RD", escalc("RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))
for (to in c("only0", "all", "if0all", "none")) {
  for (m in c("OR", "RR", "RD")) {
    d <- suppressWarnings(escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = niel, to = to))
    es(paste0("es_niel_", m, "_", to), d)
  }
}
es("es_niel_OR_drop00", escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = niel,
                               drop00 = TRUE))
es("es_niel_OR_add1", escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = niel,
                             add = 1))
es("es_normand_SMD", escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                            n2i = n2i, data = normand))
es("es_normand_MD", escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                           n2i = n2i, data = normand))
es("es_molloy_COR", escalc("COR", ri = ri, ni = ni, data = molloy))
es("es_molloy_ZCOR", escalc("ZCOR", ri = ri, ni = ni, data = molloy))
es("es_hart_IRR", escalc("IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = hart))

d_bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
d_normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                    n2i = n2i, data = normand)
d_md <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
               n2i = n2i, data = normand)
d_molloy <- escalc("ZCOR", ri = ri, ni = ni, data = molloy)
d_hart <- escalc("IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = hart)
d_niel <- escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = niel)

# ---- model fits ----------------------------------------------------------------------------
add_fit <- function(model, res, newmods = NULL) {
  add(model, "beta", res$beta[, 1], rownames(res$beta))
  add(model, "se", res$se, rownames(res$beta))
  add(model, "zval", res$zval, rownames(res$beta))
  add(model, "pval", res$pval, rownames(res$beta))
  add(model, "ci.lb", res$ci.lb, rownames(res$beta))
  add(model, "ci.ub", res$ci.ub, rownames(res$beta))
  for (q in c("tau2", "se.tau2", "QE", "QEp", "I2", "H2", "QM", "QMp", "s2w")) {
    v <- res[[q]]
    if (!is.null(v) && !is.na(v)) one(model, q, v)
  }
  if (!is.null(res$R2)) one(model, "R2", res$R2)
  one(model, "k", res$k)
  one(model, "loglik", logLik(res))
  one(model, "aic", AIC(res))
  one(model, "bic", BIC(res))
  if (res$int.only) {
    p <- predict(res)
    one(model, "pred", p$pred)
    one(model, "pred.se", p$se)
    if (!is.null(p$pi.lb)) {
      one(model, "pi.lb", p$pi.lb)
      one(model, "pi.ub", p$pi.ub)
    }
    w <- weights(res)
    add(model, "weight", w, seq_along(w))
  } else {
    p <- predict(res)  # fitted values
    add(model, "fitted", p$pred, seq_along(p$pred))
    add(model, "fitted.pi.lb", p$pi.lb, seq_along(p$pred))
    add(model, "fitted.pi.ub", p$pi.ub, seq_along(p$pred))
    if (!is.null(newmods)) {
      p <- predict(res, newmods = newmods)
      add(model, "new.pred", p$pred, seq_along(p$pred))
      add(model, "new.se", p$se, seq_along(p$pred))
      add(model, "new.ci.lb", p$ci.lb, seq_along(p$pred))
      add(model, "new.ci.ub", p$ci.ub, seq_along(p$pred))
      add(model, "new.pi.lb", p$pi.lb, seq_along(p$pred))
      add(model, "new.pi.ub", p$pi.ub, seq_along(p$pred))
    }
  }
  if (res$method != "FE" && res$k > res$p) {
    ci <- confint(res, control = ctl_ci)$random
    add(model, "tau2.ci", ci["tau^2", 2:3], c("lb", "ub"))
    add(model, "I2.ci", ci["I^2(%)", 2:3], c("lb", "ub"))
    add(model, "H2.ci", ci["H^2", 2:3], c("lb", "ub"))
    ci90 <- confint(res, level = 90, control = ctl_ci)$random
    add(model, "tau2.ci90", ci90["tau^2", 2:3], c("lb", "ub"))
  }
}

data_sets <- list(bcg = d_bcg, normand = d_normand, md = d_md, molloy = d_molloy)
for (nm in names(data_sets)) {
  d <- data_sets[[nm]]
  for (m in methods) for (test in c("z", "knha")) {
    res <- suppressWarnings(rma(yi, vi, data = d, method = m, test = test, control = ctl))
    add_fit(paste(nm, m, test, sep = "_"), res)
  }
}
add_fit("hart_REML_z", rma(yi, vi, data = d_hart, method = "REML", control = ctl))
add_fit("niel_REML_z", rma(yi, vi, data = d_niel, method = "REML", control = ctl))
add_fit("niel_DL_z", rma(yi, vi, data = d_niel, method = "DL", control = ctl))

# meta-regression: a continuous moderator, two moderators, a factor
for (m in methods) for (test in c("z", "knha")) {
  res <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = d_bcg, method = m, test = test,
                              control = ctl))
  add_fit(paste("bcg_ablat", m, test, sep = "_"), res, newmods = c(10, 30, 50))
  res <- suppressWarnings(rma(yi, vi, mods = ~ ablat + year, data = d_bcg, method = m,
                              test = test, control = ctl))
  add_fit(paste("bcg_ablat_year", m, test, sep = "_"), res)
  res <- suppressWarnings(rma(yi, vi, mods = ~ alloc, data = d_bcg, method = m, test = test,
                              control = ctl))
  add_fit(paste("bcg_alloc", m, test, sep = "_"), res)
}
res <- rma(yi, vi, mods = ~ meanage, data = d_molloy, method = "REML", control = ctl)
add_fit("molloy_meanage_REML_z", res)

# ---- subgroups: separate models per subgroup, then the test of subgroup differences --------
for (m in c("REML", "DL", "FE")) for (test in c("z", "knha")) {
  model <- paste("bcg_by_alloc", m, test, sep = "_")
  lev <- sort(unique(d_bcg$alloc))
  est <- se <- numeric(0)
  for (g in lev) {
    r <- suppressWarnings(rma(yi, vi, data = d_bcg, subset = alloc == g, method = m,
                              test = test, control = ctl))
    add_fit(paste(model, g, sep = "_"), r)
    est <- c(est, c(r$beta)); se <- c(se, r$se)
  }
  between <- rma(est, sei = se, method = "FE")
  one(model, "Q_between", between$QE)
  one(model, "Q_between_p", between$QEp)
}

# ---- Egger's regression test (regtest defaults: sei as predictor, same model type) --------
add_reg <- function(model, res) {
  r <- regtest(res)
  one(model, "zval", r$zval)
  one(model, "pval", r$pval)
  if (!is.null(r$est)) {
    one(model, "est", r$est)
    one(model, "ci.lb", r$ci.lb)
    one(model, "ci.ub", r$ci.ub)
  }
  add(model, "beta", r$fit$beta[, 1], rownames(r$fit$beta))
  add(model, "se", r$fit$se, rownames(r$fit$beta))
  one(model, "tau2", r$fit$tau2)
}
for (m in c("FE", "DL", "REML", "PM")) for (test in c("z", "knha")) {
  add_reg(paste("egger_bcg", m, test, sep = "_"),
          suppressWarnings(rma(yi, vi, data = d_bcg, method = m, test = test, control = ctl)))
}
add_reg("egger_normand_REML_z", rma(yi, vi, data = d_normand, method = "REML", control = ctl))
add_reg("egger_molloy_REML_z", rma(yi, vi, data = d_molloy, method = "REML", control = ctl))
add_reg("egger_bcg_ablat_REML_z", rma(yi, vi, mods = ~ ablat, data = d_bcg, method = "REML",
                                      control = ctl))

# ---- leave-one-out and influence -------------------------------------------------------------
add_l1o <- function(model, res) {
  l <- leave1out(res)
  for (q in c("estimate", "se", "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2")) {
    if (!is.null(l[[q]])) add(model, q, l[[q]], seq_along(l$estimate))
  }
  stat <- if (!is.null(l$zval)) l$zval else l$tval
  add(model, "stat", stat, seq_along(l$estimate))
}
add_inf <- function(model, res) {
  inf <- influence(res)
  for (q in c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")) {
    add(model, q, inf$inf[[q]], seq_along(inf$inf[[q]]))
  }
  add(model, "inf", as.numeric(inf$is.infl), seq_along(inf$is.infl))
  for (j in seq_len(res$p)) {
    add(model, paste0("dfbs.", rownames(res$beta)[j]), inf$dfbs[[j]], seq_along(inf$dfbs[[j]]))
  }
}
for (m in c("REML", "DL", "FE", "PM")) for (test in c("z", "knha")) {
  res <- suppressWarnings(rma(yi, vi, data = d_bcg, method = m, test = test, control = ctl))
  add_l1o(paste("l1o_bcg", m, test, sep = "_"), res)
  add_inf(paste("inf_bcg", m, test, sep = "_"), res)
}
add_l1o("l1o_normand_REML_z", rma(yi, vi, data = d_normand, method = "REML", control = ctl))
add_l1o("l1o_molloy_REML_z", rma(yi, vi, data = d_molloy, method = "REML", control = ctl))
add_inf("inf_normand_REML_z", rma(yi, vi, data = d_normand, method = "REML", control = ctl))
add_inf("inf_bcg_ablat_REML_z", rma(yi, vi, mods = ~ ablat, data = d_bcg, method = "REML",
                                    control = ctl))
add_inf("inf_bcg_ablat_REML_knha", rma(yi, vi, mods = ~ ablat, data = d_bcg, method = "REML",
                                       test = "knha", control = ctl))

# ---- trim and fill ---------------------------------------------------------------------------
add_tf <- function(model, res, ...) {
  tf <- trimfill(res, control = ctl, ...)
  one(model, "k0", tf$k0)
  one(model, "se.k0", tf$se.k0)
  one(model, "side", ifelse(tf$side == "left", -1, 1))
  if (!is.na(tf$p.k0)) one(model, "p.k0", tf$p.k0)
  one(model, "beta", tf$beta[1, 1])
  one(model, "se", tf$se)
  one(model, "ci.lb", tf$ci.lb)
  one(model, "ci.ub", tf$ci.ub)
  one(model, "pval", tf$pval)
  one(model, "tau2", tf$tau2)
  one(model, "QE", tf$QE)
  one(model, "k", tf$k)
  add(model, "yi", tf$yi, seq_along(tf$yi))
  add(model, "vi", tf$vi, seq_along(tf$vi))
}
for (m in c("REML", "FE", "DL")) {
  res <- rma(yi, vi, data = d_bcg, method = m, control = ctl)
  add_tf(paste("tf_bcg", m, sep = "_"), res)
  add_tf(paste("tf_bcg", m, "R0", sep = "_"), res, estimator = "R0")
  add_tf(paste("tf_bcg", m, "left", sep = "_"), res, side = "left")
}
for (nm in c("normand", "md", "molloy")) {
  for (m in c("REML", "FE")) {
    res <- rma(yi, vi, data = data_sets[[nm]], method = m, control = ctl)
    add_tf(paste("tf", nm, m, sep = "_"), res)
    add_tf(paste("tf", nm, m, "R0", sep = "_"), res, estimator = "R0")
    add_tf(paste("tf", nm, m, "Q0", sep = "_"), res, estimator = "Q0")
  }
}
res <- rma(yi, vi, data = d_niel, method = "REML", control = ctl)
add_tf("tf_niel_REML", res)

ref <- do.call(rbind, out)
con <- file("tests/reference/meta_metafor.csv", "w")
writeLines(sprintf("# %s; metafor %s; metadat %s", R.version.string,
                   packageVersion("metafor"), packageVersion("metadat")), con)
write.csv(ref, con, row.names = FALSE)
close(con)
