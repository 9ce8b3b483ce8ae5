"""The one error type for bad user input (arguments, files, guides).

``launch.py`` turns a :class:`UserError` into one line on stderr and exit code 2. Every
package may raise it: ``sim`` is the root package that all others import.
"""


class UserError(Exception):
    """Bad input from the user: the message says what was wrong and what to do."""
