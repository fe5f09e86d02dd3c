project = "RNN course"
extensions = ["rnnviz.sphinx"]
exclude_patterns = ["_build"]
