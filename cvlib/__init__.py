"""cvlib: the library behind the image-classification studio.

Everything that does work lives here; the Streamlit pages are thin views over it.  The
layers, from the bottom up (``ARCHITECTURE.md`` draws them): :mod:`cvlib.runtime`,
:mod:`cvlib.storage`, :mod:`cvlib.data`, :mod:`cvlib.evaluation`, :mod:`cvlib.models`,
:mod:`cvlib.training`, :mod:`cvlib.serving`, :mod:`cvlib.azure`, and the command line.

The names below are the short way in, each imported on first use (so ``import cvlib`` stays
cheap and the app paints before torch loads)::

    import cvlib
    dataset = cvlib.load_dataset("sample_data/fridge4")
    result = cvlib.train(dataset)                  # quick mode; recorded in the run history
    folder = cvlib.save(result, "models/fridge4")  # the record notes the folder
    model = cvlib.load_model(folder)
    model.predict(images)                          # the label set of each image
    model.evaluate(cvlib.load_dataset("more_photos"))
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cvlib.data.dataset import Dataset, load_dataset, summarize
    from cvlib.data.splits import split
    from cvlib.errors import StudioError
    from cvlib.models.inference import Predictor, export_onnx, load_model
    from cvlib.training.config import TrainConfig
    from cvlib.training.presets import get_preset, list_presets
    from cvlib.training.train import TrainResult
    from cvlib.training.workflow import save_trained as save
    from cvlib.training.workflow import train_and_record as train

__getattr__, __dir__, __all__ = attach(__name__, __file__)
