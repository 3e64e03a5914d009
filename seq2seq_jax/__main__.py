import sys

from seq2seq_jax.cli import main

sys.exit(main())
