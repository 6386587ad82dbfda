from voltbook.city.command import main

main()
