"""Page 24: train on an Azure ML GPU cluster, once or as a hyperparameter sweep (SDK v2)."""

from pathlib import Path

import streamlit as st

from ui.azure import (
    action_result,
    action_running,
    client,
    confirm_delete,
    connection_badge,
    require_client,
    show_yaml,
    start_action,
)
from ui.common import guarded, next_step, page_header
from ui.datasets import dataset_picker

PAGE = "24"
REPO = Path(__file__).resolve().parent.parent
ARCHITECTURES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "resnet18",
                 "resnet34", "resnet50"]

page_header("24 Cloud sweep", "Training on an Azure GPU cluster: one job, or a sweep", "🧹")
connection_badge()

st.markdown("""
A **command job** runs one command on a cluster node: here the studio's own
`python -m cvlib train`, on a GPU. The photos are uploaded once as a **data asset**,
versioned, and mounted into the job; the job's code is the `cvlib` package alone. Its log and
per-epoch validation accuracy show below while it runs, and the model it saves comes back into
the studio's model list, ready for pages 21 and 23.

A **sweep** runs the same command many times with different settings (each run is a
**trial**) and keeps the best. **Sampling** chooses the settings: *grid* tries every
combination, *random* draws some, *Bayesian* picks the next from the results so far (it
accepts only lists and plain ranges, so it tries the listed learning rates). **Early
termination** (the *bandit* policy) stops a trial whose validation accuracy falls more than
the *slack* behind the best, so GPU time goes to promising trials; Bayesian sampling learns
from finished trials and cannot be combined with it. Trials are ranked by the accuracy of the
model each one saved (its best epoch), not by its last epoch.

Both run on an **AmlCompute cluster** that scales from 0 nodes, so you pay only while jobs
run. A job on a GPU size checks first that torch sees the GPU and stops at once with the
reason if it does not, rather than training on the CPU at GPU prices.
""")

dataset = dataset_picker("single", "Training photos")
data_dir = dataset.root if dataset is not None else None
cols = st.columns(2)
cluster_size = cols[0].text_input("GPU VM size", "Standard_NC4as_T4_v3", key=f"{PAGE}:vm")
cluster_name = cols[1].text_input("Cluster name", "gpu-cluster", key=f"{PAGE}:cluster")


def common_specs():
    """The cluster, environment, data asset and code folder both kinds of job use."""
    from cvlib.azure import specs
    from cvlib.storage.home import studio_home

    cluster = specs.gpu_cluster(cluster_name, cluster_size)
    st.caption(specs.price_note(cluster_size) + " A cluster at 0 nodes costs nothing.")
    environment = specs.training_environment(REPO / "requirements.txt")
    data_name = data_dir.name or "images"
    show_yaml("GPU cluster", cluster)
    show_yaml("Data asset", specs.dataset_asset(data_dir, data_name))
    code_dir = specs.training_code_folder(studio_home() / "azure-code" / "training")
    return cluster, environment, data_name, code_dir


def start_cloud_job(ml, prefix: str, cluster, data_name: str, build) -> None:
    """Cluster (quota checked), data upload, submit: the same steps for a job and a sweep.

    A background job (a new cluster and a large upload take minutes); its result, the
    submitted job's name, fills the "follow" box once it is done.
    """
    from cvlib.azure import jobs

    location = (st.session_state.get("azure:workspace") or {}).get("location", "")

    def start(log) -> str:
        jobs.ensure_cluster(ml, cluster, location, log)
        log(f"Uploading {data_dir} as data asset {data_name}")
        data = jobs.upload_dataset(ml, data_dir, data_name)
        name = jobs.submit(ml, build(data))
        log(f"Submitted {name}")
        return name

    start_action(f"{prefix}:start", "Starting in the cloud", start,
                 context=(str(data_dir), data_name))


def metric_reader():
    """Per-job validation accuracy through MLflow, or None with the reason shown."""
    from cvlib.azure.jobs import metric_reader as make_reader
    from cvlib.errors import StudioError

    uri = (st.session_state.get("azure:workspace") or {}).get("mlflow_tracking_uri")
    if not uri:
        return None
    try:
        return make_reader(uri)
    except StudioError as error:
        st.caption(str(error))
        return None


def training_tab(common) -> None:
    """One command job: settings, YAML, submit, follow, bring the model home."""
    from cvlib.azure.jobs import TrainPlan, command_job

    cluster, environment, data_name, code_dir = common
    cols = st.columns(4)
    arch = cols[0].selectbox("Architecture", ARCHITECTURES, key=f"{PAGE}:t:arch")
    lr = cols[1].number_input("Learning rate", 1e-5, 1.0, 3e-3, format="%g",
                              key=f"{PAGE}:t:lr")
    epochs = int(cols[2].number_input("Epochs", 1, 100, 8, key=f"{PAGE}:t:ep"))
    batch = int(cols[3].number_input("Batch size", 4, 512, 32, key=f"{PAGE}:t:bs"))
    plan = TrainPlan(arch, float(lr), epochs, batch, cluster_name, cluster_size)
    show_yaml("Training job", command_job(plan, f"azureml:{data_name}:<version>", environment,
                                          code_dir))
    submit_and_follow(f"{PAGE}:t", "Upload data and train in the cloud", "Job to follow",
                      cluster, data_name,
                      lambda data: command_job(plan, data, environment, code_dir), follow_job)


def submit_and_follow(prefix: str, submit: str, follow: str, cluster, data_name: str,
                      make_job, show) -> None:
    """A submit button (upload the data, create the job) and the job to follow below it.

    Both tabs work this way; the job's name is kept so a rerun keeps following it.
    """
    ml = require_client()
    if ml is None:
        return
    if st.button(submit, key=f"{prefix}:submit", type="primary",
                 disabled=action_running(f"{prefix}:start")):
        start_cloud_job(ml, prefix, cluster, data_name, make_job)

    def follow_submitted(name: str) -> None:
        st.session_state[f"{prefix}:follow"] = name

    action_result(f"{prefix}:start", context=(str(data_dir), data_name),
                  once=follow_submitted)
    job_name = st.text_input(follow, key=f"{prefix}:follow")
    if job_name:
        guarded(show)(ml, job_name)


def follow_job(ml, job_name: str) -> None:
    """The job's state, log tail and accuracy curve, refreshed without rerunning the page."""
    from cvlib.azure import jobs

    reader = metric_reader()

    @st.fragment(run_every=15)
    def panel() -> None:
        state = jobs.job_status(ml, job_name)
        st.write(f"Job **{job_name}**: {state}")
        if reader is not None:
            values = reader(job_name)
            if values:
                st.line_chart({"validation accuracy": values})
        st.code(jobs.log_tail(ml, job_name) or "(no log yet: the node is starting)")

    panel()
    bring_home(ml, job_name, lambda dest, name: jobs.download_model(ml, job_name, dest, name))


def bring_home(ml, job_name: str, download) -> None:
    """Download a finished job's model into the studio's model list, under a chosen name."""
    from cvlib.storage.home import studio_home

    name = st.text_input("Save as", f"cloud-{job_name}", key=f"{PAGE}:save:{job_name}")
    job = f"{PAGE}:download:{job_name}"
    if st.button("Download the model into the studio", key=job,
                 disabled=action_running(job)):
        start_action(job, f"Downloading the model of {job_name}",
                     lambda log: download(studio_home() / "models", name))
    folder = action_result(job)
    if folder:
        st.success(f"Saved as {folder.name}: pages 21 and 23 list it now.")


def sweep_tab(common) -> None:
    """A sweep: search space in plain numbers, YAML, submit, trial table, best model."""
    from cvlib.azure.sweep import SweepPlan, describe_space, sweep_job

    cluster, environment, data_name, code_dir = common
    cols = st.columns(3)
    sampling = cols[0].selectbox("Sampling", ["random", "grid", "bayesian"],
                                 key=f"{PAGE}:samp")
    max_trials = int(cols[1].number_input("Trials", 1, 100, 8, key=f"{PAGE}:trials"))
    concurrent = int(cols[2].number_input("At once", 1, 20, 2, key=f"{PAGE}:conc"))
    architectures = st.multiselect("Architectures", ARCHITECTURES, ARCHITECTURES[:2],
                                   key=f"{PAGE}:arch")
    learning_rates = st.multiselect(
        "Learning rates (random sampling draws between the smallest and the largest)",
        [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], [1e-3, 3e-3, 1e-2], key=f"{PAGE}:lr")
    cols = st.columns(2)
    epochs = int(cols[0].number_input("Epochs", 1, 100, 8, key=f"{PAGE}:ep"))
    slack = cols[1].slider("Bandit slack", 0.05, 0.5, 0.1, key=f"{PAGE}:slack")
    plan = SweepPlan(tuple(architectures), tuple(learning_rates), epochs=epochs,
                     sampling=sampling, max_trials=max_trials, max_concurrent=concurrent,
                     slack_factor=slack, compute=cluster_name, compute_size=cluster_size)
    st.markdown("**What the sweep searches**\n" + "\n".join(f"- {line}"
                                                           for line in describe_space(plan)))
    show_yaml("Sweep job", sweep_job(plan, f"azureml:{data_name}:<version>", environment,
                                     code_dir))
    if not plan.early_termination:
        st.caption("Bayesian sampling: no early termination.")
    submit_and_follow(PAGE, "Upload data and start the sweep", "Sweep to follow",
                      cluster, data_name,
                      lambda data: sweep_job(plan, data, environment, code_dir), follow_sweep)


def follow_sweep(ml, job_name: str) -> None:
    """Trials with their settings and accuracy, refreshed every 30 s; the best one's model."""
    from cvlib.azure import sweep

    reader = metric_reader()

    @st.fragment(run_every=30)
    def panel() -> None:
        state, best = sweep.status(ml, job_name)
        st.write(f"Sweep **{job_name}**: {state}; best trial so far: {best or 'none yet'}")
        st.dataframe(trial_table(sweep.trials(ml, job_name, reader)), hide_index=True)

    panel()
    bring_home(ml, job_name, lambda dest, name: sweep.download_best(ml, job_name, dest, name))


def trial_table(rows) -> list[dict]:
    """One row per trial: name, state, each setting as a column, the saved model's accuracy."""
    return [{"trial": r.name, "status": r.status, **r.settings,
             "valid accuracy": r.metric} for r in rows]


def cleanup_section() -> None:
    """Delete the cluster (the tutorial's clean-up), after a confirmation."""
    ml = client()
    if ml is None:
        return
    from cvlib.azure.deploy import delete_compute

    st.subheader("Clean up")
    job = f"{PAGE}:cleanup"
    if confirm_delete(PAGE, "cluster", cluster_name, action_running(job)):
        start_action(job, f"Deleting {cluster_name}",
                     lambda log: f"{cluster_name} {delete_compute(ml, cluster_name, log)}",
                     context=cluster_name)
    done = action_result(job, context=cluster_name)
    if done:
        st.success(done)


common = guarded(common_specs)() if dataset is not None else None
if common:
    train_tab, sweep_tab_ = st.tabs(["One training job", "Sweep"])
    with train_tab:
        guarded(training_tab)(common)
    with sweep_tab_:
        guarded(sweep_tab)(common)
    guarded(cleanup_section)()

next_step("pages/24_Cloud_sweep.py", [
    "Switch sampling to grid and read the YAML: the learning rate becomes a choice list.",
    "Compare the best cloud trial with page 11's local grid on the same photos.",
])
