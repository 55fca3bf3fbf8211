"""digitnet: the neural network of 3Blue1Brown's "But what is a neural network?", for real.

    from digitnet import Network, load_dataset, load_model, default_model_path
    from digitnet.training import TrainingSettings, train
    from digitnet.preprocess import to_network_input
"""

__version__ = "0.1.0"

from .errors import DigitnetError  # noqa: E402
from .network import Network, Trace  # noqa: E402
from .data import Dataset, load_dataset, read_idx  # noqa: E402
from .modelfile import Model, load_model, save_model, default_model_path  # noqa: E402

__all__ = ["DigitnetError", "Network", "Trace", "Dataset", "load_dataset", "read_idx",
           "Model", "load_model", "save_model", "default_model_path", "__version__"]
