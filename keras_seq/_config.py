"""One `get_config` for the classes whose configuration is their attributes."""

from __future__ import annotations


class AttributeConfig:
    """`get_config` for a Keras layer, loss, metric or model that keeps each
    constructor argument (validated, converted) in the attribute of the same
    name: the base class's config plus one entry per name in
    `config_attributes`. A subclass that adds arguments extends the tuple
    (`config_attributes = Base.config_attributes + ("new_argument",)`)."""

    config_attributes = ()

    def get_config(self):
        config = super().get_config()
        config.update({name: getattr(self, name) for name in self.config_attributes})
        return config
