"""Page 11: a grid of training settings, run locally, with heatmaps of what really matters."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cvlib.training.presets import WORKSHOP_GRID_FIXED
from cvlib.training.sweep import Grid, best_setting, to_csv
from ui.common import (
    guarded,
    job_monitor,
    key,
    next_step,
    page_header,
    results_context,
    start_job,
)
from ui.datasets import dataset_picker
from ui.sweep import grid_editor, heatmap_panel, quick_notice, results_table
from ui.training import results_panel, start_training, training_monitor

PAGE = "p11"
JOB = "sweep-p11"
TRAIN_JOB = "train-p11"

page_header("11 · Hyperparameters",
            "Try every combination of a few settings, and see which ones actually matter.",
            "🎛️")

st.markdown(
    "**Hyperparameters** are the settings you choose before training: learning rate, "
    "weight decay, image size, backbone... No formula gives the best ones for your photos, "
    "so we measure: a **grid** trains one model per combination and compares their "
    "validation accuracy. Two cautions make the answer honest. First, with a few dozen "
    "validation photos one photo is several points of accuracy, so each combination is "
    "**repeated** with another seed (another split): the *spread* over repeats shows how much "
    "of a difference is luck. Second, look at **heatmaps**, not only the single best cell: "
    "a setting whose rows all look the same does not matter, whatever the best cell says."
)

st.header("1 · The data")
dataset = dataset_picker(kind="single")
extra = st.text_area("More datasets to sweep over (optional, one folder per line)",
                     key=key(PAGE, "extra"),
                     help="The same grid runs on each; heatmaps average over them, and "
                          "'dataset' becomes a setting you can put on an axis.")

if dataset is not None:
    st.header("2 · The grid")
    st.markdown(
        "Pick a few values for each setting to vary (nothing picked: its default). The "
        "number of cells is the product of the numbers of values, times the repeats: it "
        "grows fast. Finished runs are stored as they come, so running the grid again (or "
        "after a Stop) only trains what is missing."
    )
    workshop = st.toggle("Workshop preset (3 learning rates, full training: a few minutes "
                         "on a laptop CPU)", key=key(PAGE, "workshop"))
    if workshop:
        st.info(f"Workshop preset: three **learning rates** of full training, two powers of "
                f"ten apart (EfficientNet-Lite0 looking at the whole photo at "
                f"{WORKSHOP_GRID_FIXED['image_size']} px, {WORKSHOP_GRID_FIXED['epochs']} "
                "epochs each). The learning rate is the setting that matters most, and quick "
                "mode cannot show it: quick mode fits only the last layer, in one step, "
                "without a learning rate. Expect too small a rate to change next to nothing "
                "(the model stays where quick mode left it), a good one to improve it, and "
                "too large a one to make the validation loss jump: it wrecks what ImageNet "
                "taught the network. Full training keeps its epoch with the lowest "
                "validation loss, the starting quick head included, so the heatmap opens on "
                "the **last epoch's** accuracy: where the training itself ended up.")
    axes, fixed, repeats = grid_editor(PAGE, workshop)
    datasets = [str(dataset.root), *[line.strip() for line in extra.splitlines()
                                     if line.strip()]]
    grid = guarded(Grid.from_dict)({"grid": axes, "fixed": fixed, "repeats": repeats},
                                   datasets)
    if grid is not None:
        import yaml

        from cvlib.training.sweep import plan_sweep

        plan = guarded(plan_sweep)(grid)
        if plan is not None:
            n_runs = len(plan.run_keys())
            st.metric("Cells", grid.n_cells(), f"{n_runs} distinct runs", delta_color="off")
            quick_notice(grid, n_runs)
        with st.expander("The same sweep from the command line"):
            st.code(yaml.safe_dump({k: v for k, v in grid.to_dict().items()
                                    if k != "datasets"}, sort_keys=False), language="yaml")
            st.code(f"python -m cvlib sweep --grid grid.yaml --data {datasets[0]} --json",
                    language="bash")

        st.header("3 · Run")
        grid_context = results_context(dataset, grid.to_dict())
        if st.button("▶ Run the grid", type="primary", key=key(PAGE, "run")):
            from cvlib.training.sweep import run_sweep

            def work(progress):
                return run_sweep(grid, progress=progress)

            start_job(JOB, work, what="running the grid", context=grid_context)
        result = job_monitor(JOB, live=lambda snap: st.dataframe(snap["history"], height=200),
                             context=grid_context)

        if result is not None:
            st.header("4 · Results")
            st.caption(f"{len(result.rows)} cells, {result.n_runs} distinct runs, "
                       f"{result.n_trained} trained now (the rest were stored), "
                       f"{result.wall_s:.1f} s.")
            best = best_setting(result.rows)
            if best is not None:
                st.success("Best setting: " + ", ".join(f"**{k}** = {v}" for k, v in
                                                        best["settings"].items())
                           + f" — accuracy {best['mean']:.1%} ± {best['std']:.1%} over "
                           f"{best['n']} run(s).")
            results_table(result.rows, best)
            st.download_button("⬇ Results as CSV", to_csv(result.rows), "sweep.csv",
                               "text/csv", key=key(PAGE, "csv"))
            st.subheader("Which settings matter?")
            heatmap_panel(PAGE, result.rows)
            if best is not None:
                st.subheader("Train the best setting")
                st.markdown("The grid only kept numbers; train the winner on the first "
                            "dataset to inspect and save it.")
                winner = grid.config(best["settings"])
                if st.button("▶ Train the best setting", key=key(PAGE, "train-best")):
                    start_training(TRAIN_JOB, dataset, winner)
                trained = training_monitor(TRAIN_JOB, context=results_context(dataset, winner))
                if trained is not None:
                    results_panel(PAGE, trained)

next_step("pages/11_Hyperparameters.py", [
    "Add a second setting to the workshop grid (epochs 1 and 3): does the best learning "
    "rate depend on how long you train?",
    "Set repeats to 2: is the learning rate's effect larger than the spread between repeats?",
    "Switch to quick mode and sweep **weight decay** against **image size**: which moves "
    "accuracy?",
    f"Run the same grid from a terminal: `python -m cvlib sweep --grid grid.yaml --data "
    f"{Path('sample_data/fridge4')}` (finished cells are skipped).",
])
