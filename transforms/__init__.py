"""Pure, reusable DataFrame -> DataFrame functions and aggregation declarations.

Nothing here touches session state, calls an action or imports the framework.
"""
