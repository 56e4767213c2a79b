// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// A malicious payment token: every balance move calls `target` with `attack` (armed with
/// `arm`), e.g. the escrow's settle or withdraw of the same deal, and records whether that
/// re-entry went through. It never reverts itself, so the outer call carries on.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public attack;
    uint256 public attempts;
    uint256 public successes;
    bytes public lastError;
    bool private _inAttack;

    constructor() ERC20("Reentrant Token", "EVIL") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata attack_) external {
        target = target_;
        attack = attack_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target == address(0) || _inAttack || from == address(0)) return;
        _inAttack = true;
        attempts += 1;
        (bool ok, bytes memory result) = target.call(attack);
        if (ok) successes += 1;
        else lastError = result;
        _inAttack = false;
    }
}
