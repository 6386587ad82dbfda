from voltbook.cli import main

main()
