# Reference values for table_one(): R tableone's formulas computed with base R
# (the tableone package is not available from Debian), and the p-value of the test
# table_one() chooses for each variable, from the R function that defines that test.
# Run from the repository root:
#   Rscript tests/reference/table_one.R
# Writes tests/reference/table_one.csv (summaries and p-values by scenario) and
# tests/reference/table_one_fisher.csv (fisher.test on single tables).
# Data: JOBS II (R package `mediation`, data `jobs`), tests/data/jobs.csv.
d <- read.csv("tests/data/jobs.csv", stringsAsFactors = FALSE)
out <- data.frame(scenario = character(), variable = character(), level = character(),
                  group = character(), statistic = character(), value = numeric(),
                  test = character(), stringsAsFactors = FALSE)
add <- function(scenario, variable, level, group, statistic, value, test = "") {
  out[nrow(out) + 1, ] <<- list(scenario, variable, level, group, statistic, value, test)
}
smd_cont <- function(a, b) abs(mean(a) - mean(b)) / sqrt((var(a) + var(b)) / 2)
smd_cat <- function(p1, p2) {
  # Yang & Dalton multinomial SMD, as tableone's StdDiffMulti (levels 2..K)
  t <- p1[-1]; c <- p2[-1]
  S <- function(p) { m <- -outer(p, p); diag(m) <- p * (1 - p); m }
  s <- (S(t) + S(c)) / 2
  d <- t - c
  sqrt(max(as.numeric(t(d) %*% MASS::ginv(s) %*% d), 0))
}
# table_one's default test choice
continuous_test <- function(x, g, test) {
  switch(test,
    t_test = t.test(x ~ g)$p.value,
    student_t = t.test(x ~ g, var.equal = TRUE)$p.value,
    anova = oneway.test(x ~ g, var.equal = TRUE)$p.value,
    welch_anova = oneway.test(x ~ g)$p.value,
    kruskal = kruskal.test(x ~ g)$p.value,
    wilcoxon = wilcox.test(x ~ g)$p.value)
}
categorical_test <- function(tab, test) {
  if (test == "chisq") return(suppressWarnings(chisq.test(tab))$p.value)
  # tables too large for the exact algorithm: Monte Carlo p-value, as table_one falls
  # back to (compared within Monte Carlo error)
  if (test == "fisher_mc") {
    set.seed(20261205)
    return(fisher.test(tab, simulate.p.value = TRUE, B = 1e5)$p.value)
  }
  # a larger workspace than the default: the p-value is the same exact one
  fisher.test(tab, workspace = 2e7)$p.value
}
default_categorical <- function(tab) {
  if (any(suppressWarnings(chisq.test(tab))$expected < 5)) "fisher" else "chisq"
}
describe <- function(scenario, d, by, continuous, nonnormal, categorical, overrides = list(),
                     mc = character(0)) {
  g <- factor(d[[by]])
  lv <- levels(g)
  pairs <- combn(lv, 2)
  for (v in continuous) {
    for (k in lv) {
      x <- d[[v]][g == k]
      add(scenario, v, "", k, "mean", mean(x)); add(scenario, v, "", k, "sd", sd(x))
    }
    test <- if (!is.null(overrides[[v]])) overrides[[v]] else if (length(lv) == 2) "t_test" else "anova"
    add(scenario, v, "", "", "p_value", continuous_test(d[[v]], g, test), test)
    add(scenario, v, "", "", "smd", mean(apply(pairs, 2, function(p)
      smd_cont(d[[v]][g == p[1]], d[[v]][g == p[2]]))))
  }
  for (v in nonnormal) {
    for (k in lv) {
      x <- d[[v]][g == k]
      add(scenario, v, "", k, "median", median(x))
      add(scenario, v, "", k, "q1", quantile(x, 0.25, type = 7))
      add(scenario, v, "", k, "q3", quantile(x, 0.75, type = 7))
    }
    test <- if (!is.null(overrides[[v]])) overrides[[v]] else "kruskal"
    add(scenario, v, "", "", "p_value", continuous_test(d[[v]], g, test), test)
  }
  for (v in categorical) {
    tab <- table(g, d[[v]])
    for (k in lv) for (l in colnames(tab)) {
      add(scenario, v, l, k, "n", tab[k, l])
      add(scenario, v, l, k, "percent", 100 * tab[k, l] / sum(tab[k, ]))
    }
    test <- if (!is.null(overrides[[v]])) overrides[[v]] else default_categorical(tab)
    if (v %in% mc) test <- "fisher_mc"
    # table_one names the 2 x 2 chi-square test by its Yates correction
    name <- if (test == "chisq" && all(dim(tab) == 2)) "chisq_yates" else test
    add(scenario, v, "", "", "p_value", categorical_test(tab, test), name)
    props <- prop.table(tab, 1)
    add(scenario, v, "", "", "smd", mean(apply(pairs, 2, function(p)
      smd_cat(props[p[1], ], props[p[2], ]))))
  }
}
describe("treat", d, "treat", c("age", "econ_hard"), "depress1", c("sex", "marital"))
describe("income", d, "income", c("age", "econ_hard"), "depress1", "sex")
describe("treat_overrides", d, "treat", c("age", "econ_hard"), "depress1", c("marital", "educ"),
         list(age = "student_t", econ_hard = "t_test", depress1 = "wilcoxon", marital = "fisher"))
describe("income_overrides", d, "income", "age", "depress1", character(0),
         list(age = "welch_anova", depress1 = "kruskal"))
# a small sample: expected counts below 5 switch the categorical tests to Fisher's
small <- d[1:80, ]
describe("small", small, "treat", "age", "depress1", c("sex", "marital", "educ"))
small3 <- d[1:120, ]
describe("small_income", small3, "income", "age", character(0), c("sex", "marital"),
         mc = "marital")

# Fisher's exact test on single tables (rows separated by "/" in `table`)
tables <- list(
  "3,1/1,3", "2,0,3/1,4,0", "10,3/2,15", "400,3/380,9",
  "20,25,30,18,22,3,27,24,26/19,28,25,20,21,1,26,23,28",
  "60,25,12,2/55,30,10,1/58,28,14,3", "270,130,70,30,2/265,135,65,33,1",
  "10,8,2/12,5,1/9,9,4", "10,8,2/12,5,1/9,9,4/3,6,0", "5,2,1/3,4,0/1,1,6",
  "0,5/5,0", "1,0,0/0,1,0/0,0,1"
)
fisher <- data.frame(table = unlist(tables), p_value = sapply(tables, function(s) {
  rows <- strsplit(strsplit(s, "/")[[1]], ",")
  m <- do.call(rbind, lapply(rows, as.numeric))
  fisher.test(m, workspace = 2e7)$p.value
}))

header <- sprintf("# %s; MASS %s; generated by tests/reference/table_one.R",
                  R.version.string, packageVersion("MASS"))
con <- file("tests/reference/table_one.csv", "w")
writeLines(header, con)
write.csv(out, con, row.names = FALSE)
close(con)
con <- file("tests/reference/table_one_fisher.csv", "w")
writeLines(header, con)
write.csv(fisher, con, row.names = FALSE)
close(con)
