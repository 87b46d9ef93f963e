"""Restoration networks (plain ``nn.Module``s): the encoder-decoder protocol
(``EncoderDecoder``) and the barycenter head any of them carries (``BarycenterHead``); BaryNet,
Restormer, PromptIR, NAFNet and AdaIR (each also with the head), the dual potentials, the model
registry (presets: ``list_models``) and the one weights loader (``load_model``)."""

from baryir.models.adair import AdaIR
from baryir.models.baryadair import BaryAdaIR
from baryir.models.barynafnet import BaryNAFNet
from baryir.models.barynet import BaryNet
from baryir.models.base import Configurable, EncoderDecoder, RestorationModel
from baryir.models.dual_potentials import DualPotentials
from baryir.models.head import BarycenterHead, HeadOutput
from baryir.models.nafnet import NAFNet
from baryir.models.official import convert_official_state_dict
from baryir.models.output import RestorationOutput
from baryir.models.padding import crop_to, pad_to_multiple
from baryir.models.promptir import PromptIR
from baryir.models.registry import (
    convert_official_checkpoint,
    create_model,
    export_model,
    list_models,
    load_model,
    load_official_checkpoint,
    model_config,
    register_model,
)
from baryir.models.restormer import Restormer

__all__ = [
    "AdaIR",
    "BaryAdaIR",
    "BaryNAFNet",
    "BaryNet",
    "BarycenterHead",
    "Configurable",
    "DualPotentials",
    "EncoderDecoder",
    "HeadOutput",
    "NAFNet",
    "PromptIR",
    "RestorationModel",
    "RestorationOutput",
    "Restormer",
    "convert_official_checkpoint",
    "convert_official_state_dict",
    "create_model",
    "crop_to",
    "export_model",
    "list_models",
    "load_model",
    "load_official_checkpoint",
    "model_config",
    "pad_to_multiple",
    "register_model",
]
