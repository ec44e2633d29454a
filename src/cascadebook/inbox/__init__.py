"""Ways returns arrive: folders, archives and e-mail (.eml, .mbox, Maildir, .msg)."""
