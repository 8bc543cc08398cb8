# Reference values for simple_slopes() and johnson_neyman()
# (mutualaid_outcomes.models.regression.simple_slopes).
# Run from the repository root:  Rscript tests/reference/simple_slopes.R
# Writes tests/reference/simple_slopes.csv (long: model, quantity, at, value).
#
# Data: tests/data/jobs.csv (JOBS II, R package `mediation`; see tests/data/README.md).
# Everything is computed by hand from coef() and vcov(): the conditional effect of the
# focal predictor X at moderator value w is b_X + b_XW * w, its variance
# V_XX + 2 w V_X,XW + w^2 V_XW,XW (delta method, exact for a linear combination), and the
# Johnson-Neyman bounds are the roots of
#   (b_XW^2 - q^2 V_XW,XW) w^2 + 2 (b_X b_XW - q^2 V_X,XW) w + (b_X^2 - q^2 V_XX) = 0,
# q the t quantile with df.residual() for lm and the normal quantile for glm logit.
# (interactions::johnson_neyman is not used: it is not installed here.)
d <- read.csv("tests/data/jobs.csv", stringsAsFactors = TRUE)
d$work <- as.integer(d$work1 == "psyemp")
ctl <- glm.control(epsilon = 1e-14, maxit = 200)
level <- 0.95

out <- list()
add <- function(model, quantity, at, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        at = at, value = unname(as.numeric(value)))
}

# Conditional effects of a linear combination c' b (c: named weights on coefficients).
slope <- function(model, fit, weights, at_label, df) {
  b <- coef(fit); V <- vcov(fit)
  cvec <- setNames(numeric(length(b)), names(b))
  cvec[names(weights)] <- weights
  est <- sum(cvec * b); se <- sqrt(drop(t(cvec) %*% V %*% cvec))
  q <- if (is.null(df)) qnorm(0.5 + level / 2) else qt(0.5 + level / 2, df)
  stat <- est / se
  p <- if (is.null(df)) 2 * pnorm(-abs(stat)) else 2 * pt(-abs(stat), df)
  add(model, "estimate", at_label, est); add(model, "std_error", at_label, se)
  add(model, "statistic", at_label, stat); add(model, "p_value", at_label, p)
  add(model, "conf_low", at_label, est - q * se); add(model, "conf_high", at_label, est + q * se)
}

continuous <- function(model, fit, x, w, int, at_extra, df) {
  mf <- model.frame(fit)
  wv <- mf[[w]]
  m <- mean(wv); s <- sd(wv)
  add(model, "w_mean", "", m); add(model, "w_sd", "", s)
  add(model, "w_min", "", min(wv)); add(model, "w_max", "", max(wv))
  for (v in c(m - s, m, m + s, at_extra)) {
    wts <- c(1, v); names(wts) <- c(x, int)
    slope(model, fit, wts, format(v, digits = 17), df)
  }
  b <- coef(fit); V <- vcov(fit)
  q <- if (is.null(df)) qnorm(0.5 + level / 2) else qt(0.5 + level / 2, df)
  qa <- b[int]^2 - q^2 * V[int, int]
  qb <- 2 * (b[x] * b[int] - q^2 * V[x, int])
  qc <- b[x]^2 - q^2 * V[x, x]
  disc <- qb^2 - 4 * qa * qc
  add(model, "jn_a", "", qa); add(model, "jn_disc", "", disc)
  if (disc > 0) {
    r <- sort((-qb + c(-1, 1) * sqrt(disc)) / (2 * qa))
    add(model, "jn_lower", "", r[1]); add(model, "jn_upper", "", r[2])
  }
}

# 1. lm, continuous moderator; bounds: lower outside, upper inside the observed range
f1 <- lm(depress2 ~ econ_hard * age + sex, data = d)
continuous("lm_econ_age", f1, "econ_hard", "age", "econ_hard:age", c(30, 60), df.residual(f1))
# 2. lm, both bounds outside the observed range (significant throughout it)
f2 <- lm(depress2 ~ job_seek * depress1 + sex + age, data = d)
continuous("lm_seek_dep", f2, "job_seek", "depress1", "job_seek:depress1", 2, df.residual(f2))
# 3. lm, no real roots (never significant); moderator written first in the formula
f3 <- lm(depress2 ~ econ_hard * treat + sex + age, data = d)
continuous("lm_treat_econ", f3, "treat", "econ_hard", "econ_hard:treat", numeric(0),
           df.residual(f3))
# 4. glm logit, z inference; lower bound inside the observed range
g1 <- glm(work ~ job_seek * depress1 + age, binomial, data = d, control = ctl)
continuous("logit_seek_dep", g1, "job_seek", "depress1", "job_seek:depress1", numeric(0), NULL)
# 5. lm, binary 0/1 moderator: the effect at each level
f5 <- lm(depress2 ~ treat * sex + age, data = d)
for (v in c(0, 1)) slope("lm_treat_sex", f5, c(treat = 1, `treat:sex` = v), v, df.residual(f5))
# 6. lm, categorical moderator (5 levels, reference = first alphabetically)
f6 <- lm(depress2 ~ treat * marital + age, data = d)
for (lv in levels(d$marital)) {
  wts <- c(treat = 1)
  if (lv != levels(d$marital)[1]) wts[paste0("treat:marital", lv)] <- 1
  slope("lm_treat_marital", f6, wts, lv, df.residual(f6))
}

res <- do.call(rbind, out)
con <- file("tests/reference/simple_slopes.csv", "w")
writeLines(sprintf("# R %s.%s; stats %s", R.version$major, R.version$minor,
                   packageVersion("stats")), con)
write.csv(res, con, row.names = FALSE)
close(con)
