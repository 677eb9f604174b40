// strike: the command users type.
#include "launcher/app.h"

int main(int argc, char** argv) { return strike::launcher::run_strike(argc, argv); }
