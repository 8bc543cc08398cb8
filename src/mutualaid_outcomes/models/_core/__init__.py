"""The numerical core every estimator shares.

``design`` (formulas and design matrices), ``ols`` (the one least-squares fitter, single
and batched), ``glm`` (the one IRLS fitter and its separation policy), ``families`` and
``likelihood`` (the families of fit_regression), ``covariance`` (model, HC0-HC3 and
cluster sandwiches), ``bootstrap`` (resampling, BCa and Monte Carlo intervals),
``counts`` (seeded resample counts on threads), ``packed_cholesky`` (batched Cholesky
factors and regression coefficients of packed cross products) and ``groupsum``
(grouped sums). Internal: import from the modules.
"""
