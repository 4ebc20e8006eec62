"""whosaid inside other libraries' pipelines.

- `spacy_component`: the `whosaid` spaCy pipeline component (`nlp.add_pipe("whosaid",
  config={"model": DIR})`), found by spaCy through the `spacy_factories` entry point.
- `transformers_pipeline`: `pipeline("attribution-extraction", model=DIR)` in
  transformers' pipeline registry.
- `transformers_auto`: `AutoConfig` / `AutoModel` know the "whosaid" model type once
  `whosaid` is imported, without `import whosaid` importing transformers or torch.

Every module here imports torch only when a model is loaded: spaCy imports
`spacy_component` whenever any pipeline is created (`spacy.blank`), and `import whosaid`
installs `transformers_auto`'s hooks.
"""
