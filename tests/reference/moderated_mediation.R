# Reference values for moderated mediation in mutualaid_outcomes.models.mediation.mediate
# (moderator=, moderated_paths=): conditional process models (Hayes PROCESS models 7, 8,
# 59, a serial model with moderated a and b paths, and a categorical moderator).
# Point estimates are products of lm() coefficients, computed here by hand; the index of
# moderated mediation and conditional indirect effects of two cases also as lavaan `:=`
# definitions (ML of the same recursive path model, which equals equation-wise OLS).
# Bootstrap: boot::boot of the index and a conditional indirect effect of case jobs_m7,
# percentile and BCa limits (boot.ci with L = centred jackknife influence values, as in
# bca_boot.R).
# Also writes the simulated data set ../data/moderated_mediation_sim.csv (set.seed below).
# Run from this directory:  Rscript moderated_mediation.R
suppressPackageStartupMessages({library(lavaan); library(boot)})

jobs <- read.csv("../data/jobs.csv")
fmt <- function(v) sprintf("%.6g", v)
rows <- list()
add <- function(case, term, estimate, source = "lm") {
  rows[[length(rows) + 1]] <<- data.frame(case = case, term = term, estimate = estimate,
                                          source = source)
}
pairs_of <- function(k) if (k < 2) list() else combn(k, 2, simplify = FALSE)

# ---- jobs_m7: parallel, W = econ_hard moderates both a paths (PROCESS model 7)
W <- jobs$econ_hard
at7 <- c(mean(W) - sd(W), mean(W), mean(W) + sd(W))
f1 <- lm(job_seek ~ treat * econ_hard + depress1 + age, data = jobs)
f2 <- lm(job_disc ~ treat * econ_hard + depress1 + age, data = jobs)
fy <- lm(depress2 ~ treat + job_seek + job_disc + depress1 + age, data = jobs)
m7 <- function(f1, f2, fy) {
  a <- list(job_seek = coef(f1)[c("treat", "treat:econ_hard")],
            job_disc = coef(f2)[c("treat", "treat:econ_hard")])
  b <- coef(fy)[c("job_seek", "job_disc")]
  list(a = a, b = b, c = coef(fy)["treat"])
}
p <- m7(f1, f2, fy)
for (m in c("job_seek", "job_disc")) {
  add("jobs_m7", sprintf("a[%s]", m), p$a[[m]][1])
  add("jobs_m7", sprintf("a[%s]:econ_hard", m), p$a[[m]][2])
}
for (m in c("job_seek", "job_disc")) add("jobs_m7", sprintf("b[%s]", m), p$b[m])
add("jobs_m7", "direct", p$c)
for (m in c("job_seek", "job_disc")) {
  add("jobs_m7", sprintf("index[%s]", m), p$a[[m]][2] * p$b[m])
  ind <- (p$a[[m]][1] + p$a[[m]][2] * at7) * p$b[m]
  for (r in seq_along(at7)) add("jobs_m7", sprintf("indirect[%s|econ_hard=%s]", m, fmt(at7[r])), ind[r])
  for (pr in pairs_of(3)) add("jobs_m7", sprintf("contrast[%s|econ_hard=%s minus econ_hard=%s]",
                                                 m, fmt(at7[pr[2]]), fmt(at7[pr[1]])), ind[pr[2]] - ind[pr[1]])
}
# lavaan with := definitions (product column precomputed)
jl <- jobs; jl$tw <- jl$treat * jl$econ_hard
lav7 <- sprintf('
  job_seek ~ a1s*treat + econ_hard + a3s*tw + depress1 + age
  job_disc ~ a1d*treat + econ_hard + a3d*tw + depress1 + age
  depress2 ~ cp*treat + bs*job_seek + bd*job_disc + depress1 + age
  job_seek ~~ job_disc
  index_s := a3s*bs
  index_d := a3d*bs*0 + a3d*bd
  ind_s_mean := (a1s + a3s*%.17g)*bs
  ind_d_mean := (a1d + a3d*%.17g)*bd', mean(W), mean(W))
fit7 <- sem(lav7, data = jl, control = list(rel.tol = 1e-14, iter.max = 10000))
pe <- parameterEstimates(fit7)
get <- function(lbl) pe$est[pe$label == lbl]
add("jobs_m7", "index[job_seek]", get("index_s"), "lavaan")
add("jobs_m7", "index[job_disc]", get("index_d"), "lavaan")
add("jobs_m7", sprintf("indirect[job_seek|econ_hard=%s]", fmt(mean(W))), get("ind_s_mean"), "lavaan")
add("jobs_m7", sprintf("indirect[job_disc|econ_hard=%s]", fmt(mean(W))), get("ind_d_mean"), "lavaan")

# ---- jobs_m59: one mediator, W = econ_hard on a, b and c; X and W mean-centred
jc <- jobs; jc$xc <- jc$treat - mean(jc$treat); jc$wc <- jc$econ_hard - mean(jc$econ_hard)
g1 <- lm(job_seek ~ xc * wc, data = jc)
gy <- lm(depress2 ~ xc * wc + job_seek + job_seek:wc, data = jc)
cf1 <- coef(g1); cfy <- coef(gy)
add("jobs_m59", "a[job_seek]", cf1["xc"]); add("jobs_m59", "a[job_seek]:econ_hard", cf1["xc:wc"])
add("jobs_m59", "b[job_seek]", cfy["job_seek"]); add("jobs_m59", "b[job_seek]:econ_hard", cfy["wc:job_seek"])
add("jobs_m59", "direct", cfy["xc"]); add("jobs_m59", "direct:econ_hard", cfy["xc:wc"])
u <- at7 - mean(W)
ind <- (cf1["xc"] + cf1["xc:wc"] * u) * (cfy["job_seek"] + cfy["wc:job_seek"] * u)
for (r in seq_along(at7)) add("jobs_m59", sprintf("indirect[job_seek|econ_hard=%s]", fmt(at7[r])), ind[r])
for (pr in pairs_of(3)) add("jobs_m59", sprintf("contrast[job_seek|econ_hard=%s minus econ_hard=%s]",
                                                fmt(at7[pr[2]]), fmt(at7[pr[1]])), ind[pr[2]] - ind[pr[1]])
dir <- cfy["xc"] + cfy["xc:wc"] * u
for (r in seq_along(at7)) add("jobs_m59", sprintf("direct[econ_hard=%s]", fmt(at7[r])), dir[r])

# ---- jobs_serial_ab: serial job_seek -> job_disc, W = sex on every a and b path
h1 <- coef(lm(job_seek ~ treat * sex, data = jobs))
h2 <- coef(lm(job_disc ~ treat * sex + job_seek, data = jobs))
hy <- coef(lm(depress2 ~ treat + sex + job_seek + job_disc + job_seek:sex + job_disc:sex, data = jobs))
add("jobs_serial_ab", "a[job_seek]", h1["treat"]); add("jobs_serial_ab", "a[job_seek]:sex", h1["treat:sex"])
add("jobs_serial_ab", "a[job_disc]", h2["treat"]); add("jobs_serial_ab", "a[job_disc]:sex", h2["treat:sex"])
add("jobs_serial_ab", "d[job_seek->job_disc]", h2["job_seek"])
add("jobs_serial_ab", "b[job_seek]", hy["job_seek"]); add("jobs_serial_ab", "b[job_seek]:sex", hy["sex:job_seek"])
add("jobs_serial_ab", "b[job_disc]", hy["job_disc"]); add("jobs_serial_ab", "b[job_disc]:sex", hy["sex:job_disc"])
add("jobs_serial_ab", "direct", hy["treat"])
for (s in 0:1) {
  a1 <- h1["treat"] + h1["treat:sex"] * s; a2 <- h2["treat"] + h2["treat:sex"] * s
  b1 <- hy["job_seek"] + hy["sex:job_seek"] * s; b2 <- hy["job_disc"] + hy["sex:job_disc"] * s
  add("jobs_serial_ab", sprintf("indirect[job_seek|sex=%d]", s), a1 * b1)
  add("jobs_serial_ab", sprintf("indirect[job_disc|sex=%d]", s), a2 * b2)
  add("jobs_serial_ab", sprintf("indirect[job_seek->job_disc|sex=%d]", s), a1 * h2["job_seek"] * b2)
}

# ---- jobs_cat: W = educ (5 levels, first level the reference) moderates the a path
jobs$educ <- factor(jobs$educ)
k1 <- coef(lm(job_seek ~ treat * educ, data = jobs))
ky <- coef(lm(depress2 ~ treat + job_seek, data = jobs))
lev <- levels(jobs$educ)
add("jobs_cat", "a[job_seek]", k1["treat"])
for (l in lev[-1]) add("jobs_cat", sprintf("a[job_seek]:educ=%s", l), k1[sprintf("treat:educ%s", l)])
add("jobs_cat", "b[job_seek]", ky["job_seek"]); add("jobs_cat", "direct", ky["treat"])
for (l in lev[-1]) add("jobs_cat", sprintf("index[job_seek|educ=%s]", l), k1[sprintf("treat:educ%s", l)] * ky["job_seek"])
for (l in lev) {
  a <- k1["treat"] + if (l == lev[1]) 0 else k1[sprintf("treat:educ%s", l)]
  add("jobs_cat", sprintf("indirect[job_seek|educ=%s]", l), a * ky["job_seek"])
}

# ---- sim_m8: simulated, three parallel mediators, W moderates a and c (PROCESS model 8)
set.seed(20261205)
n <- 600
sim <- data.frame(x = rbinom(n, 1, 0.5), w = rnorm(n, 2, 1), c1 = rnorm(n))
sim$m1 <- 0.3 * sim$x + 0.2 * sim$w + 0.25 * sim$x * sim$w + 0.2 * sim$c1 + rnorm(n)
sim$m2 <- 0.4 * sim$x - 0.1 * sim$w - 0.15 * sim$x * sim$w + rnorm(n)
sim$m3 <- 0.2 * sim$x + 0.1 * sim$w + rnorm(n)
sim$y <- 0.1 * sim$x + 0.1 * sim$w + 0.1 * sim$x * sim$w + 0.4 * sim$m1 + 0.3 * sim$m2 +
  0.2 * sim$m3 + 0.2 * sim$c1 + rnorm(n)
con <- file("../data/moderated_mediation_sim.csv", "w")
writeLines("# Simulated by tests/reference/moderated_mediation.R (set.seed(20261205)); x exposure, w moderator, c1 covariate, m1-m3 mediators, y outcome.", con)
write.csv(round(sim, 10), con, row.names = FALSE); close(con)
sim <- read.csv("../data/moderated_mediation_sim.csv", comment.char = "#")
atw <- c(mean(sim$w) - sd(sim$w), mean(sim$w), mean(sim$w) + sd(sim$w))
ms <- c("m1", "m2", "m3")
sa <- lapply(ms, function(m) coef(lm(as.formula(sprintf("%s ~ x * w + c1", m)), data = sim)))
sy <- coef(lm(y ~ x * w + m1 + m2 + m3 + c1, data = sim))
for (j in 1:3) { add("sim_m8", sprintf("a[%s]", ms[j]), sa[[j]]["x"]); add("sim_m8", sprintf("a[%s]:w", ms[j]), sa[[j]]["x:w"]) }
for (j in 1:3) add("sim_m8", sprintf("b[%s]", ms[j]), sy[ms[j]])
add("sim_m8", "direct", sy["x"]); add("sim_m8", "direct:w", sy["x:w"])
for (j in 1:3) {
  add("sim_m8", sprintf("index[%s]", ms[j]), sa[[j]]["x:w"] * sy[ms[j]])
  ind <- (sa[[j]]["x"] + sa[[j]]["x:w"] * atw) * sy[ms[j]]
  for (r in 1:3) add("sim_m8", sprintf("indirect[%s|w=%s]", ms[j], fmt(atw[r])), ind[r])
}
for (r in 1:3) add("sim_m8", sprintf("direct[w=%s]", fmt(atw[r])), sy["x"] + sy["x:w"] * atw[r])
sl <- sim; sl$xw <- sl$x * sl$w
lav8 <- '
  m1 ~ a1*x + w + a31*xw + c1
  m2 ~ a2*x + w + a32*xw + c1
  m3 ~ a3*x + w + a33*xw + c1
  y ~ cp*x + w + c3*xw + b1*m1 + b2*m2 + b3*m3 + c1
  m1 ~~ m2 + m3
  m2 ~~ m3
  index1 := a31*b1
  index2 := a32*b2
  index3 := a33*b3'
fit8 <- sem(lav8, data = sl, control = list(rel.tol = 1e-14, iter.max = 10000))
pe <- parameterEstimates(fit8)
for (j in 1:3) add("sim_m8", sprintf("index[%s]", ms[j]), pe$est[pe$label == sprintf("index%d", j)], "lavaan")

# ---- bootstrap of jobs_m7: index[job_seek], index[job_disc], indirect[job_seek|mean]
X1 <- model.matrix(f1); X2 <- model.matrix(f2); XY <- model.matrix(fy)
stat <- function(d, i) {
  c1 <- lm.fit(X1[i, ], jobs$job_seek[i])$coefficients
  c2 <- lm.fit(X2[i, ], jobs$job_disc[i])$coefficients
  cy <- lm.fit(XY[i, ], jobs$depress2[i])$coefficients
  c(c1["treat:econ_hard"] * cy["job_seek"], c2["treat:econ_hard"] * cy["job_disc"],
    (c1["treat"] + c1["treat:econ_hard"] * mean(W)) * cy["job_seek"])
}
n_boot <- 20000
set.seed(2026)
b <- boot(jobs, stat, R = n_boot)
bnames <- c("index[job_seek]", "index[job_disc]", sprintf("indirect[job_seek|econ_hard=%s]", fmt(mean(W))))
brows <- lapply(1:3, function(k) {
  Lc <- empinf(b, index = k, type = "jack"); Lc <- Lc - mean(Lc)
  ci <- boot.ci(b, conf = 0.95, type = c("bca", "perc"), index = k, L = Lc)
  data.frame(term = bnames[k], estimate = b$t0[k], boot_sd = sd(b$t[, k]),
             bca_low = ci$bca[4], bca_high = ci$bca[5], perc_low = ci$percent[4],
             perc_high = ci$percent[5], n_boot = n_boot)
})
out <- do.call(rbind, rows)
con <- file("moderated_mediation.csv", "w")
writeLines(sprintf("# %s; lavaan %s; boot %s", R.version.string, packageVersion("lavaan"), packageVersion("boot")), con)
writeLines("# Written by moderated_mediation.R; cases jobs_* use ../data/jobs.csv, sim_m8 ../data/moderated_mediation_sim.csv.", con)
write.csv(out, con, row.names = FALSE); close(con)
con <- file("moderated_mediation_boot.csv", "w")
writeLines(sprintf("# %s; boot %s", R.version.string, packageVersion("boot")), con)
writeLines("# Written by moderated_mediation.R: boot() of case jobs_m7, 20000 resamples; BCa with L = centred jackknife values.", con)
write.csv(do.call(rbind, brows), con, row.names = FALSE); close(con)
