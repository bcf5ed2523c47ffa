KEYS = {}
PHRASES = {}
