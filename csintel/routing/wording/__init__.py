"""The digests in words: each module turns one audience's facts (rows and numbers from
`csintel/digests/<audience>.py`) into the Digest that every renderer draws."""
