from optviz.launch import main

main()
