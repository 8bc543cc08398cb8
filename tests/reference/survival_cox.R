# Reference values for fit_cox, fit_cox_time_varying and check_proportional_hazards.
# Run from the repository root: Rscript tests/reference/survival_cox.R
suppressPackageStartupMessages(library(survival))
rd <- function(f) read.csv(f, comment.char = "#")
lung <- rd("tests/data/surv_lung.csv")
lung$dead <- as.integer(lung$status == 2)
lung$w <- 1 + (seq_len(nrow(lung)) %% 3) / 2
vet <- rd("tests/data/surv_veteran.csv")
heart <- rd("tests/data/surv_heart.csv")
cgd <- rd("tests/data/surv_cgd.csv")
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 50)
rows <- list()
add <- function(case, quantity, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, term = term,
                                          value = as.numeric(value))
}
record <- function(case, fit, zph = TRUE) {
  b <- coef(fit)
  add(case, "coef", names(b), b)
  add(case, "se", names(b), sqrt(diag(fit$var)))
  if (!is.null(fit$naive.var)) add(case, "naive_se", names(b), sqrt(diag(fit$naive.var)))
  add(case, "loglik0", "", fit$loglik[1])
  add(case, "loglik", "", fit$loglik[2])
  add(case, "score", "", fit$score)
  add(case, "wald", "", fit$wald.test)
  if (!is.null(fit$rscore)) add(case, "robust_score", "", fit$rscore)
  add(case, "concordance", "", fit$concordance["concordance"])
  add(case, "n", "", fit$n)
  add(case, "nevent", "", fit$nevent)
  if (zph) {
    z <- cox.zph(fit)
    add(case, "zph_chisq", rownames(z$table), z$table[, "chisq"])
    add(case, "zph_df", rownames(z$table), z$table[, "df"])
    add(case, "zph_p", rownames(z$table), z$table[, "p"])
  }
}
for (ties in c("efron", "breslow")) {
  record(paste0("lung_", ties), coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung,
                                      ties = ties, control = ctl))
  record(paste0("lung_strata_", ties), coxph(Surv(time, dead) ~ age + ph.ecog + strata(sex),
                                             data = lung, ties = ties, control = ctl))
  record(paste0("lung_cluster_", ties), coxph(Surv(time, dead) ~ age + sex + ph.karno + cluster(inst),
                                              data = lung, ties = ties, control = ctl))
  record(paste0("lung_weights_", ties), coxph(Surv(time, dead) ~ age + sex, data = lung, robust = FALSE,
                                              weights = w, ties = ties, control = ctl))
  record(paste0("lung_weights_robust_", ties), coxph(Surv(time, dead) ~ age + sex, data = lung,
                                                     weights = w, robust = TRUE, ties = ties,
                                                     control = ctl))
  record(paste0("veteran_", ties), coxph(Surv(time, status) ~ trt + karno + age, data = vet,
                                         ties = ties, control = ctl))
  record(paste0("veteran_robust_", ties), coxph(Surv(time, status) ~ trt + karno + age,
                                                data = vet, ties = ties, robust = TRUE,
                                                control = ctl))
  record(paste0("veteran_celltype_", ties), coxph(Surv(time, status) ~ trt + celltype + karno,
                                                  data = vet, ties = ties, control = ctl))
  record(paste0("heart_", ties), coxph(Surv(start, stop, event) ~ age + year + surgery + transplant +
                                         cluster(id), data = heart, ties = ties, control = ctl))
  record(paste0("cgd_", ties), coxph(Surv(tstart, tstop, status) ~ treat + female + age + autosomal +
                                       steroids + propylac + cluster(id), data = cgd, ties = ties,
                                     control = ctl))
  record(paste0("cgd_strata_", ties), coxph(Surv(tstart, tstop, status) ~ treat + age + strata(enum > 1) +
                                              cluster(id), data = cgd, ties = ties, control = ctl),
         zph = TRUE)
}
# R's default variance rule with id (no cluster term): model-based unless an id has more
# than one event or the weights are not whole numbers (survival 3.x coxph: robust is TRUE
# with has.cluster || has.rwt || (has.id && anyDuplicated(id[status == 1])))
heart$w <- 1 + (seq_len(nrow(heart)) %% 3) / 2
for (ties in c("efron", "breslow")) {
  record(paste0("heart_default_", ties), coxph(Surv(start, stop, event) ~ age + year + surgery +
                                                 transplant, id = id, data = heart, ties = ties,
                                               control = ctl), zph = FALSE)
  record(paste0("heart_weights_default_", ties), coxph(Surv(start, stop, event) ~ age + year +
                                                         surgery + transplant, id = id,
                                                       weights = w, data = heart, ties = ties,
                                                       control = ctl), zph = FALSE)
  record(paste0("cgd_default_", ties), coxph(Surv(tstart, tstop, status) ~ treat + female + age +
                                               autosomal + steroids + propylac, id = id,
                                             data = cgd, ties = ties, control = ctl), zph = FALSE)
}
# cox.zph with the other transforms on one model
fit <- coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung, control = ctl)
for (tr in c("identity", "rank", "log")) {
  z <- cox.zph(fit, transform = tr)
  add(paste0("lung_zph_", tr), "zph_chisq", rownames(z$table), z$table[, "chisq"])
}
res <- do.call(rbind, rows)
path <- "tests/reference/survival_cox.csv"
writeLines(sprintf("# R %s.%s; survival %s", R.version$major, R.version$minor,
                   packageVersion("survival")), path)
suppressWarnings(write.table(res, path, sep = ",", row.names = FALSE, append = TRUE))
