"""The shared kernel: what every context needs to know about a school and its people.

Stateful: `references` (the next reference of a case, a post or a comment).
Pure: `schools` (the validated configuration), `permissions` (every access rule), `platforms`,
`button_values`, `text` (typed text made safe), `text_files`, `file_names`.
"""
