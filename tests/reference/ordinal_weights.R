# Reference values for fit_regression(family="ordinal_logit", weights=): case (frequency)
# weights in the cumulative-logit likelihood, sum_i w_i log P(Y_i = y_i).
# Run from the repository root:  Rscript tests/reference/ordinal_weights.R
# Reads tests/data/regression_wine.csv (ordinal::wine); writes
# tests/reference/ordinal_weights.csv (long: model, quantity, term, value).
suppressPackageStartupMessages({
  library(MASS); library(ordinal)
})
wine <- read.csv("tests/data/regression_wine.csv", comment.char = "#")
wine$w <- 1 + (seq_len(nrow(wine)) %% 3)  # integer frequency weights 1, 2, 3
wine$rating <- factor(wine$rating, ordered = TRUE)

out <- list()
add <- function(model, quantity, values, terms = names(values)) {
  out[[length(out) + 1]] <<- data.frame(model = model, quantity = quantity,
                                        term = terms, value = unname(as.numeric(values)))
}
se <- function(v) sqrt(diag(v))
# MASS::polr: thresholds zeta_j with logit P(Y <= j) = zeta_j - x'b (ordinal::clm's
# parametrisation); tight optim tolerance; Hessian by optimHess on the analytic gradient
p <- polr(rating ~ temp + contact, data = wine, weights = w, Hess = TRUE,
          control = list(reltol = 1e-15, maxit = 1000))
b <- c(p$zeta, coef(p))
v <- vcov(p)  # from the Hessian of polr's internal thresholds, mapped to zeta
v <- v[names(b), names(b)]
add("polr_wine_w", "coef", b)
add("polr_wine_w", "se_nonrobust", se(v), names(b))
add("polr_wine_w", "glance", c(loglik = as.numeric(logLik(p)), aic = AIC(p),
                               nobs_sum_w = sum(wine$w)))
# ordinal::clm with the same weights: analytic Hessian, converged to a tight gradient
cw <- clm(rating ~ temp + contact, data = wine, weights = w,
          control = clm.control(gradTol = 1e-12, relTol = 1e-14, maxIter = 1000))
add("clm_wine_w", "coef", coef(cw))
add("clm_wine_w", "se_nonrobust", se(vcov(cw)))
add("clm_wine_w", "glance", c(loglik = as.numeric(logLik(cw)), aic = AIC(cw)))

res <- do.call(rbind, out)
path <- "tests/reference/ordinal_weights.csv"
con <- file(path, "w")
writeLines(sprintf("# R %s; MASS %s; ordinal %s",
                   paste(R.version$major, R.version$minor, sep = "."),
                   packageVersion("MASS"), packageVersion("ordinal")), con)
write.csv(res, con, row.names = FALSE)
close(con)
