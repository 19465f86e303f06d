#include <iostream>

int main() {
    std::cout << "aquant\n";
    return 0;
}
