"""Training: from a dataset and a config to a trained, recorded model.

The quick path (a linear head on cached features) and the full path (fastai
fine-tuning) behind one :func:`~cvlib.training.train.train`; presets, sweeps, hard-negative
mining, label-error search, preset comparison, and the run history every training leaves.
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.training.compare import (
        PresetReport,
        Recommendation,
        compare_dir,
        compare_presets,
        measure_latency,
        pareto_front,
        recommend,
        save_pick,
    )
    from cvlib.training.config import TrainConfig, with_overrides
    from cvlib.training.features import (
        FeatureCache,
        FeatureExtractor,
        FeatureSpec,
        apply_view,
        backbone_onnx,
        default_cache_dir,
        extract_features,
        file_digest,
    )
    from cvlib.training.fine_tune import (
        FinderProgress,
        FineTuneOutcome,
        FrozenBatchNorm,
        ImageSet,
        KeepBest,
        LRFinderResult,
        ReportProgress,
        accuracy_metrics,
        augmentation,
        find_lr,
        make_learner,
        network_logits,
    )
    from cvlib.training.hardneg import (
        Candidate,
        HardNegativeMiner,
        NegativeSplit,
        RoundResult,
        decide,
        fit_background_row,
        negative_images,
        split_negatives,
        top_real,
        with_background,
    )
    from cvlib.training.label_errors import (
        LabelIssue,
        find_label_errors,
        label_error_finding,
        out_of_sample_probs,
        rank_label_issues,
    )
    from cvlib.training.presets import Preset, get_preset, list_presets
    from cvlib.training.quick_train import (
        fit_head_for,
        fit_linear_head,
        head_logits,
        lbfgs,
        linear_layer,
    )
    from cvlib.training.runs import (
        DataRef,
        RunRecord,
        attach_model,
        compare_runs,
        dataset_of,
        list_runs,
        load_run,
        new_run_id,
        record_run,
        record_training,
        runs_dir,
        same_metrics,
        save_record,
        valid_indices,
    )
    from cvlib.training.sweep import (
        Cell,
        Grid,
        HeatmapData,
        PlannedCell,
        SweepPlan,
        SweepResult,
        SweepStore,
        aggregate,
        best_setting,
        cells,
        collect,
        effective_settings,
        heatmap_data,
        load_grid,
        plan_sweep,
        run_key,
        run_sweep,
        swept,
        to_csv,
        torch_threads,
    )
    from cvlib.training.train import (
        HeadRows,
        TrainResult,
        check_trainable,
        drop_unreadable,
        epoch_record,
        estimate_for,
        find_learning_rate,
        network_with_head,
        score_test,
        seed_everything,
        training_views,
    )
    from cvlib.training.workflow import (
        Predictions,
        rerun,
        retrain_with_fixes,
        save_trained,
        train_and_record,
        validation_predictions,
    )

__getattr__, __dir__, __all__ = attach(__name__, __file__)
