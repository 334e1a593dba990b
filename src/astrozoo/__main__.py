from astrozoo.cli import main

main()
