"""Pure, reusable DataFrame -> DataFrame functions: user code the pipelines wire together.

Nothing here touches session state, calls an action or imports the framework.
"""
