"""cvlib: the library behind the image-classification studio.

Everything that does work lives here (data, models, training, evaluation, export, serving,
Azure ML); the Streamlit pages are thin views over it.  Importing ``cvlib`` itself is cheap:
torch and fastai are imported only by the modules that need them, so the app paints first.
"""

__version__ = "0.1.0"
