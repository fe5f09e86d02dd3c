project = "RNN course"
extensions = ["myst_parser", "rnnviz.sphinx"]
exclude_patterns = ["_build"]
