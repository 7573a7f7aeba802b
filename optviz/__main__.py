from optviz.cli import main

main()
