"""Azure Machine Learning with the v2 SDK (``azure-ai-ml``): one concept per module.

- :mod:`~cvlib.azure.connect`  which workspace, which credential, an ``MLClient``;
- :mod:`~cvlib.azure.specs`    the SDK entities we create (environment, model, endpoints,
  deployments, cluster, data, sweep) and their YAML, built without touching Azure;
- :mod:`~cvlib.azure.operations` wait for Azure's long-running operations, visibly and
  with a way out;
- :mod:`~cvlib.azure.deploy`   register and deploy blue/green, shift traffic, roll back, delete;
- :mod:`~cvlib.azure.jobs`     one training command job on a GPU cluster: quota, data, logs,
  metrics, the model brought home;
- :mod:`~cvlib.azure.sweep`    run and follow a hyperparameter sweep on a GPU cluster;
- :mod:`~cvlib.azure.trial`    what runs inside a job around ``python -m cvlib train``;
- :mod:`~cvlib.azure.service_test` send images to any endpoint (local or Azure), compare with
  the app, measure latency.

Only the functions that take an ``MLClient`` reach Azure; everything else works offline.
``azure.ai.ml`` is slow to import, so each module imports it inside its functions.
"""
