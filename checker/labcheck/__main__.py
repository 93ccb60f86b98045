from labcheck.cli import main

main()
