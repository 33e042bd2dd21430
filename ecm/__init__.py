"""ecm: document capture and enterprise content management.

The spine of the product: the document model, the pipeline (the only place that knows the
order of stages), configuration, errors, the executor and the command line.
"""

__version__ = "0.1.0"
