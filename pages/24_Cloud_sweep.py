"""Page 24: a hyperparameter sweep on an Azure ML GPU cluster (SDK v2 command + sweep)."""

from pathlib import Path

import streamlit as st

from ui.azure import SHARED_SAMPLES, connection_badge, require_client, run_with_log, show_yaml
from ui.common import guarded, next_step, page_header

PAGE = "24"
REPO = Path(__file__).resolve().parent.parent
ARCHITECTURES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "resnet18",
                 "resnet34", "resnet50"]

page_header("24 Cloud sweep", "Hyperparameter sweeps on an Azure GPU cluster", "🧹")
connection_badge()

st.markdown("""
A **sweep** runs the same training command many times with different settings (each run is a
**trial**) and keeps the best. **Sampling** chooses the settings: *grid* tries every
combination, *random* draws some, *Bayesian* picks the next from the results so far.
**Early termination** (the *bandit* policy) stops a trial whose per-epoch validation accuracy
falls more than the *slack* behind the best, so GPU time goes to promising trials; Bayesian
sampling learns from finished trials and cannot be combined with it.

Trials run on an **AmlCompute cluster** that scales from 0 nodes, so you pay only while trials
run (a T4 GPU node costs roughly half a dollar an hour; check your region's price). The
photos are uploaded once as a **data asset**, versioned, and mounted into every trial.
""")

data_dir = Path(st.text_input("Training photos (class folders)", str(SHARED_SAMPLES),
                              key=f"{PAGE}:data"))
cols = st.columns(3)
sampling = cols[0].selectbox("Sampling", ["random", "grid", "bayesian"], key=f"{PAGE}:samp")
max_trials = int(cols[1].number_input("Trials", 1, 100, 8, key=f"{PAGE}:trials"))
concurrent = int(cols[2].number_input("At once", 1, 20, 2, key=f"{PAGE}:conc"))
architectures = st.multiselect("Architectures", ARCHITECTURES, ARCHITECTURES[:2],
                               key=f"{PAGE}:arch")
learning_rates = st.multiselect("Learning rates (random/Bayesian search between min and max)",
                                [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], [1e-3, 3e-3, 1e-2],
                                key=f"{PAGE}:lr")
cols = st.columns(3)
epochs = int(cols[0].number_input("Epochs", 1, 100, 8, key=f"{PAGE}:ep"))
slack = cols[1].slider("Bandit slack", 0.05, 0.5, 0.1, key=f"{PAGE}:slack")
cluster_size = cols[2].text_input("GPU VM size", "Standard_NC4as_T4_v3", key=f"{PAGE}:vm")


def build_specs():
    """The cluster, data asset and sweep the page would create, as SDK objects."""
    from cvlib.azure import specs
    from cvlib.azure.sweep import SweepPlan, sweep_job

    plan = SweepPlan(tuple(architectures), tuple(learning_rates), epochs=epochs,
                     sampling=sampling, max_trials=max_trials, max_concurrent=concurrent,
                     slack_factor=slack)
    cluster = specs.gpu_cluster(plan.compute, cluster_size)
    environment = specs.training_environment(REPO / "requirements.txt")
    data_name = data_dir.name or "images"
    job = sweep_job(plan, f"azureml:{data_name}:<version>", environment, REPO)
    show_yaml("GPU cluster", cluster)
    show_yaml("Data asset", specs.dataset_asset(data_dir, data_name))
    show_yaml("Sweep job", job)
    if not plan.early_termination:
        st.caption("Bayesian sampling: no early termination.")
    return plan, cluster, environment, data_name


def cloud_section(plan, cluster, environment, data_name) -> None:
    """Submit and follow the sweep; needs a connected workspace."""
    ml = require_client()
    if ml is None:
        return
    from cvlib.azure import sweep

    if st.button("Upload data and start the sweep", key=f"{PAGE}:submit", type="primary"):
        def start(log):
            sweep.ensure_cluster(ml, cluster, log)
            log(f"Uploading {data_dir} as data asset {data_name}")
            data = sweep.upload_dataset(ml, data_dir, data_name)
            return sweep.submit(ml, sweep.sweep_job(plan, data, environment, REPO))

        st.session_state[f"{PAGE}:job"] = run_with_log("Starting the sweep", start)
    job_name = st.text_input("Sweep to follow", st.session_state.get(f"{PAGE}:job") or "",
                             key=f"{PAGE}:follow")

    @st.fragment(run_every=30)
    def follow() -> None:
        """Trials and their latest accuracy, refreshed every 30 s without rerunning the page."""
        state, best = sweep.status(ml, job_name)
        st.write(f"Sweep **{job_name}**: {state}; best trial so far: {best or 'none yet'}")
        st.dataframe([vars(row) for row in sweep.trials(ml, job_name)])

    if job_name:
        guarded(follow)()
        if st.button("Download the best model", key=f"{PAGE}:download"):
            from cvlib.data import studio_home

            dest = studio_home() / "models" / f"sweep-{job_name}"
            run_with_log("Downloading", lambda log: sweep.download_best(ml, job_name, dest))


built = guarded(build_specs)()
if built:
    guarded(cloud_section)(*built)

next_step("pages/24_Cloud_sweep.py", [
    "Switch sampling to grid and read the YAML: the learning rate becomes a choice list.",
    "Compare the best cloud trial with page 11's local grid on the same photos.",
])
